namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// Holds the first GPTQ build of one model's layer at its first linear (through the store cluster's fault injector)
/// until disposed, so a test can kill the layer's silo while the quantization job waits on it. Released, the held build
/// fails instead of going on: its silo is dead by then, and a build that went on would write to the store beside the
/// job's next attempt.
/// </summary>
internal sealed class HeldBuild : IDisposable
{
    private static HeldBuild? s_current;

    private readonly string _model;
    private readonly int _layer;
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _released = new();
    private int _taken;

    public HeldBuild(string model, int layer)
    {
        (_model, _layer) = (model, layer);
        if (Interlocked.CompareExchange(ref s_current, this, null) is not null)
        {
            throw new InvalidOperationException("one held build at a time");
        }
    }

    /// <summary>Completes when the held build has reached its first linear and waits.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Called by the fault injector before each linear of every build.</summary>
    public static void Before(string model, int layer, CancellationToken cancellation)
    {
        if (Volatile.Read(ref s_current) is not { } held || held._model != model || held._layer != layer || Interlocked.Exchange(ref held._taken, 1) == 1)
        {
            return;
        }

        held._reached.TrySetResult();
        held._released.Wait(TimeSpan.FromMinutes(5), cancellation);
        throw new OperationCanceledException($"the held build of {model} layer {layer} was released; its silo is gone");
    }

    public void Dispose()
    {
        Interlocked.CompareExchange(ref s_current, null, this);
        _released.Set();
    }
}
