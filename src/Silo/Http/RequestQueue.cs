using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// Bounds the generation requests the API holds: up to <c>running</c> go to the model at once, up to <c>waiting</c>
/// more wait for a turn (in arrival order as far as the semaphore gives it), and any beyond are refused at once with
/// 429 and a Retry-After, so a flood of clients meets a clear "come back" instead of an ever longer wait or a silo
/// running out of memory. The model's own continuous batching decides how the running ones share its steps.
/// </summary>
internal sealed class RequestQueue
{
    private readonly int _running, _waitingLimit;
    private readonly SemaphoreSlim _turns;
    private int _waiting;

    public RequestQueue(int running, int waiting)
    {
        if (running < 1 || waiting < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(running),
                $"OrleansQuant:Http:MaxRunningRequests is {running} and MaxWaitingRequests {waiting}; expected at least 1 running and 0 or more waiting");
        }

        (_running, _waitingLimit) = (running, waiting);
        _turns = new SemaphoreSlim(running, running);
    }

    /// <summary>Requests waiting for a turn now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Runs <paramref name="handle"/> when a turn is free; 429 when none is and the waiting line is full.</summary>
    public async Task Run(HttpContext context, Func<HttpContext, Task> handle)
    {
        if (!_turns.Wait(0))
        {
            if (Interlocked.Increment(ref _waiting) > _waitingLimit)
            {
                Interlocked.Decrement(ref _waiting);
                context.Response.Headers.RetryAfter = "1";
                throw new OpenAiException(StatusCodes.Status429TooManyRequests,
                    $"the server's queue is full: {_running} requests are running and {_waitingLimit} waiting (OrleansQuant:Http:MaxRunningRequests, MaxWaitingRequests); retry later",
                    type: "rate_limit_exceeded", code: "queue_full");
            }

            try
            {
                await _turns.WaitAsync(context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        try
        {
            await handle(context);
        }
        finally
        {
            _turns.Release();
        }
    }
}
