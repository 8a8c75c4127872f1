using Orleans.Messaging;

namespace OrleansQuant.Client;

/// <summary>
/// Tells generations waiting for their next token that a gateway connection closed. Orleans' client does not fail a
/// call it sent through a gateway whose silo died: the call waits out its response timeout (30 s by default) although
/// no answer can come. A generation told of the loss re-issues itself at once instead (<see cref="GenerationResume"/>);
/// one whose gateway is still alive is re-issued too, which costs a re-prefill and changes none of a greedy stream's ids.
/// </summary>
public sealed class GatewayLoss : IClusterConnectionStatusObserver
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next loss of a gateway (or of the whole cluster connection) after it was read.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways)
        {
            Signal();
        }
    }

    public void NotifyClusterConnectionLost() => Signal();

    /// <summary>Wakes every waiter of <see cref="Next"/>; later readers wait for the loss after this one.</summary>
    public void Signal() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
