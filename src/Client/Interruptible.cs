using System.Runtime.CompilerServices;

namespace OrleansQuant.Client;

/// <summary>
/// Stops waiting on a grain stream the moment a token is cancelled. A grain's stream observes cancellation only
/// between items, and one item can be minutes of calibration away; a caller that cancels should not wait for it.
/// </summary>
public static class Interruptible
{
    /// <summary>
    /// <paramref name="source"/>'s items until it ends or <paramref name="cancellation"/> fires (then
    /// <see cref="OperationCanceledException"/>). Leaving early disposes the grain's stream, which is what ends the
    /// work behind it (a generation leaves the model's batch) — right away, or once a pending item has arrived.
    /// </summary>
    public static async IAsyncEnumerable<T> Until<T>(this IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var enumerator = source.GetAsyncEnumerator(cancellation);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
                // Items may already be waiting: a cancelled caller gets none of them.
                cancellation.ThrowIfCancellationRequested();
                next = enumerator.MoveNextAsync().AsTask();
                if (!await next.WaitAsync(cancellation))
                {
                    yield break;
                }

                yield return enumerator.Current;
            }
        }
        finally
        {
            // An enumerator must not be disposed while a MoveNextAsync is still running: it is disposed once that ends.
            if (next is null || next.IsCompleted)
            {
                await enumerator.DisposeAsync();
            }
            else
            {
                _ = DisposeAfter(next, enumerator);
            }
        }
    }

    private static async Task DisposeAfter<T>(Task<bool> pending, IAsyncEnumerator<T> enumerator)
    {
        try
        {
            await pending;
        }
        catch
        {
            // The caller has gone; what the abandoned call came to is no one's concern but the disposal below.
        }

        try
        {
            await enumerator.DisposeAsync();
        }
        catch
        {
            // The grain's stream may already be gone with its silo; there is nothing left to end.
        }
    }
}
