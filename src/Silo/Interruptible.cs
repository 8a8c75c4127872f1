using System.Runtime.CompilerServices;

namespace OrleansQuant.Silo;

/// <summary>
/// Stops waiting on a grain stream when the command is cancelled (Ctrl+C). A grain's stream observes cancellation
/// only between items, and one item can be minutes of calibration away; the CLI should stop at once.
/// </summary>
internal static class Interruptible
{
    public static async IAsyncEnumerable<T> Until<T>(this IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var enumerator = source.GetAsyncEnumerator(cancellation);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
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
            // An enumerator must not be disposed while a MoveNextAsync is still running: an abandoned one is left to end on its own.
            if (next is null || next.IsCompleted)
            {
                await enumerator.DisposeAsync();
            }
        }
    }
}
