using System.Runtime.CompilerServices;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace OrleansQuant.Client;

/// <summary>
/// One attempt at a stream from the cluster that a silo or a gateway going away may break: its items until it ends,
/// or, as the last step, how it broke (<see cref="GenerationResume.IsInterruption"/>). A gateway closing also breaks the
/// attempt (<see cref="GatewayLoss"/>): Orleans' client does not fail a call sent through a gateway whose silo died,
/// it waits out the response timeout (30 s by default) for an answer that cannot come. Whoever resumes decides what
/// the next attempt asks for; this only tells an ending from a break.
/// </summary>
internal static class InterruptibleStream
{
    /// <summary>An item, or (<see cref="Broken"/> set, always the last step) the error that broke the stream.</summary>
    public readonly record struct Step<T>(T Item, Exception? Broken);

    /// <param name="waiting">what waited, for the error of a closed gateway: "this generation waited for its next token".</param>
    public static async IAsyncEnumerable<Step<T>> Attempt<T>(Func<CancellationToken, IAsyncEnumerable<T>> open, GatewayLoss? gatewayLoss, string waiting,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        gatewayLoss?.Next.ContinueWith(static (_, source) => CancelQuietly((CancellationTokenSource)source!), attempt, TaskScheduler.Default);
        var items = open(attempt.Token).GetAsyncEnumerator(attempt.Token);
        try
        {
            while (true)
            {
                Exception? broken = null;
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception error) when (GenerationResume.IsInterruption(error) && !cancellation.IsCancellationRequested)
                {
                    broken = error;
                }
                catch (OperationCanceledException error) when (attempt.IsCancellationRequested && !cancellation.IsCancellationRequested)
                {
                    broken = new ConnectionFailedException($"a gateway connection of the cluster closed while {waiting}", error);
                }

                if (broken is not null)
                {
                    yield return new Step<T>(default!, broken);
                    yield break;
                }

                yield return new Step<T>(items.Current, null);
            }
        }
        finally
        {
            await DisposeQuietly(items);
            attempt.Dispose();
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended before the loss: nothing waits on it.
        }
    }

    private static async Task DisposeQuietly<T>(IAsyncEnumerator<T> items)
    {
        try
        {
            await items.DisposeAsync();
        }
        catch (Exception error) when (GenerationResume.IsInterruption(error) || error is OrleansException)
        {
            // The stream's grain may be gone with its silo: there is nothing left to end.
        }
    }
}
