using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>A server that runs one generation at a time and lets none wait, as <see cref="QueueFullTests"/> needs.</summary>
public sealed class OneTurnFixture : HttpApiFixture
{
    protected override int? MaxRunningRequests => 1;

    protected override int? MaxWaitingRequests => 0;
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
        // No token limit: the first request generates until the context is full, so its turn is surely still taken
        // when the second arrives, even on two busy cores.
        var options = new ChatCompletionOptions { Temperature = 0 };

        // The first request takes the one turn and keeps it while it generates. The tiny model may end it (at its
        // context or an end token) before a loaded machine delivers the second request; then the turn was free, no 429
        // was due, and the pair is tried again with the first request drained.
        IAsyncEnumerator<StreamingChatCompletionUpdate> first = null!;
        ClientResultException? refused = null;
        for (int attempt = 1; refused is null; attempt++)
        {
            first = client.CompleteChatStreamingAsync([new UserChatMessage("hello")], options).GetAsyncEnumerator();
            Assert.True(await first.MoveNextAsync());
            try
            {
                await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 1 });
            }
            catch (ClientResultException e)
            {
                refused = e;
                break;
            }

            Assert.True(attempt < 5, "the second request was served in each of 5 tries: the first never held the turn when it arrived");
            while (await first.MoveNextAsync())
            {
            }

            await first.DisposeAsync();
            await server.AssertNoSequenceWithin("default", TimeSpan.FromSeconds(20));
        }

        Assert.Equal(429, refused.Status);
        Assert.Contains("queue is full", refused.Message);
        var raw = refused.GetRawResponse();
        Assert.NotNull(raw);
        Assert.True(raw!.Headers.TryGetValue("Retry-After", out string? retry) && retry == "1");

        // The same limit holds for /v1/completions, in OpenAI's error shape.
        var (status, body) = await server.Post("v1/completions", new { model = "default", prompt = "hi", max_tokens = 2 });
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, status);
        Assert.Equal("queue_full", body.GetProperty("error").GetProperty("code").GetString());

        // When the first client leaves, its turn comes free and the next request is served.
        await first.DisposeAsync();
        await server.AssertNoSequenceWithin("default", TimeSpan.FromSeconds(20));
        ChatCompletion answer = null!;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(50))
        {
            try
            {
                answer = await client.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });
                break;
            }
            catch (ClientResultException e) when (e.Status == 429 && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
            }
        }

        Assert.Equal(ChatMessageRole.Assistant, answer.Role);
        Assert.NotNull(answer.Usage);
        Assert.True(answer.Usage.OutputTokenCount is > 0 and <= 3);
    }
}
