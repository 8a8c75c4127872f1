using System.ClientModel;
using System.Net;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>A server that runs one generation at a time and lets none wait, as <see cref="QueueFullTests"/> needs.</summary>
public sealed class OneTurnFixture : HttpApiFixture
{
    protected override int? MaxRunningRequests => 1;

    protected override int? MaxWaitingRequests => 0;

    // Room for the held request's trickled body (QueueFullTests.GatedJsonContent) for as long as a loaded machine needs.
    protected override long BodyLimit => 64L << 20;
}

/// <summary>
/// A full request queue answers 429 in OpenAI's shape (with Retry-After) to the official client, while the request
/// holding the turn goes on; once it ends, the next request is served.
/// </summary>
public sealed class QueueFullTests(OneTurnFixture server) : IClassFixture<OneTurnFixture>
{
    [Fact]
    public async Task ASecondRequestWhileTheOnlyTurnIsTakenGets429()
    {
        var client = new ChatClient("default", new ApiKeyCredential(HttpApiFixture.ApiKey),
            new OpenAIClientOptions { Endpoint = new Uri(server.BaseUri, "v1") });

        // The first request takes the one turn and holds it for as long as the test wants: a request holds its turn
        // from the moment it is routed, body reading included, and this one's body keeps arriving (JSON whitespace)
        // until the gate opens. A generation's own length cannot be trusted for that: the tiny model may finish a
        // whole answer before a loaded machine delivers the second request. Until the first request is routed the turn
        // is free, and the probes below are served; from then on they are refused. A probe that is still being served
        // when the first request arrives makes that one the refused request instead (on one busy core it happened):
        // then the pair is started again.
        GatedJsonContent body = null!;
        Task<HttpResponseMessage> first = null!;
        ClientResultException? refused = null;
        for (int attempt = 1; refused is null; attempt++)
        {
            Assert.True(attempt <= 5, "the held request lost the turn to a probe in each of 5 tries");
            body = new GatedJsonContent(new { model = "default", prompt = "hello", max_tokens = 4, temperature = 0 });
            first = server.Http.PostAsync("v1/completions", body);
            await Task.Delay(200 * attempt);
            refused = await ProbeUntilRefused(client, first);
            if (refused is null)
            {
                body.Open();
                await Drained(first);
            }
        }

        Assert.Contains("queue is full", refused.Message);
        var raw = refused.GetRawResponse();
        Assert.NotNull(raw);
        Assert.True(raw!.Headers.TryGetValue("Retry-After", out string? retry) && retry == "1");

        // The same limit holds for /v1/completions, in OpenAI's error shape.
        var (status, error) = await server.Post("v1/completions", new { model = "default", prompt = "hi", max_tokens = 2 });
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("queue_full", error.GetProperty("error").GetProperty("code").GetString());

        // The request holding the turn goes on and is answered in full.
        body.Open();
        using (var answered = await first)
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            using var json = System.Text.Json.JsonDocument.Parse(await answered.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() is > 0 and <= 4);
        }

        // Once it has ended, its turn comes free and the next request is served. The turn is given back just after the
        // answer's last byte, so a request sent in between may still meet a 429.
        ChatCompletion next = null!;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(50))
        {
            try
            {
                next = await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });
                break;
            }
            catch (ClientResultException e) when (e.Status == 429 && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
            }
        }

        Assert.Equal(ChatMessageRole.Assistant, next.Role);
        Assert.NotNull(next.Usage);
        Assert.True(next.Usage.OutputTokenCount is > 0 and <= 3);
    }

    /// <summary>Sends one-token requests until one is refused with 429 (returned), or <paramref name="held"/> ends first (null).</summary>
    private static async Task<ClientResultException?> ProbeUntilRefused(ChatClient client, Task<HttpResponseMessage> held)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !held.IsCompleted; await Task.Delay(50))
        {
            try
            {
                await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 1 });
            }
            catch (ClientResultException e) when (e.Status == 429)
            {
                return e;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no request was refused in 60 s while the only turn was held");
        }

        return null;
    }

    /// <summary>Waits for a request that lost the turn to end, however it ended (a 429, or a reset while it still uploaded).</summary>
    private static async Task Drained(Task<HttpResponseMessage> request)
    {
        try
        {
            (await request).Dispose();
        }
        catch (HttpRequestException)
        {
        }
    }

    /// <summary>
    /// A chunked JSON body that sends leading whitespace, 4 KB every 100 ms, until <see cref="Open"/>, then the value.
    /// Kestrel resets an upload slower than 240 bytes/s after a 5 s grace: 64 bytes a tick was too few on one loaded
    /// core (reset after 6 s). At 40 KB/s the fixture's 64 MB limit lasts half an hour.
    /// </summary>
    private sealed class GatedJsonContent : HttpContent
    {
        private readonly object _value;

        public GatedJsonContent(object value)
        {
            _value = value;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            byte[] spaces = Encoding.ASCII.GetBytes(new string(' ', 4096));
            while (!_gate.Task.IsCompleted)
            {
                await stream.WriteAsync(spaces);
                await stream.FlushAsync();
                await Task.WhenAny(_gate.Task, Task.Delay(100));
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(_value)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
