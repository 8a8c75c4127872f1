using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>OpenAI's streaming framing: <c>data: {json}\n\n</c> per chunk, flushed at once, then <c>data: [DONE]\n\n</c>.</summary>
internal sealed class ServerSentEvents(HttpResponse response)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public bool Started => response.HasStarted;

    /// <summary>Writes one chunk; several generations of a batch may write at once, so writes take turns.</summary>
    public async Task Write<T>(T chunk, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            if (!response.HasStarted)
            {
                response.ContentType = "text/event-stream";
                response.Headers.CacheControl = "no-cache";
            }

            await response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, HttpJson.Options) + "\n\n", cancellation);
            await response.Body.FlushAsync(cancellation);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task Done(CancellationToken cancellation)
    {
        await response.WriteAsync("data: [DONE]\n\n", cancellation);
        await response.Body.FlushAsync(cancellation);
    }
}
