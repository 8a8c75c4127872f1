using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// /v1/completions through the official OpenAI .NET package (2.15.0). Its legacy completions client is internal, so the
/// request goes through the package's public <see cref="OpenAIClient.Pipeline"/>: the same transport, key header,
/// retries and response handling its typed clients use. A greedy completion, lm-eval's echo + logprobs scoring request,
/// and a bad key.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class OfficialClientCompletionsTests(HttpApiFixture fixture)
{
    private async Task<JsonElement> Complete(object body, string key = HttpApiFixture.ApiKey)
    {
        var pipeline = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.BaseUri, "v1") }).Pipeline;
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(fixture.BaseUri, "v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(body));
        await pipeline.SendAsync(message);
        var response = message.Response!;
        if (response.IsError)
        {
            throw new ClientResultException(response);
        }

        return JsonDocument.Parse(response.Content.ToString()).RootElement.Clone();
    }

    [Fact]
    public async Task AGreedyCompletionIsWhatTheEngineGenerates()
    {
        const string prompt = "The meaning of life is";
        var body = await Complete(new { model = "default", prompt, max_tokens = 8, temperature = 0 });

        var (_, text) = await fixture.Engine(fixture.Tokenizer.Encode(prompt).ToArray(), 8);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(text, choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task EchoAndLogprobsScoreThePromptAsTheModelDoes()
    {
        int[] prompt = fixture.Tokenizer.Encode("Once upon a time there was").ToArray();
        var body = await Complete(new { model = "default", prompt = new[] { prompt }, max_tokens = 1, temperature = 0, logprobs = 2, echo = true, seed = 1234 });

        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        LogprobsTests.AssertEchoedAndScored(fixture, choice, prompt, top: 2);
    }

    [Fact]
    public async Task ABadKeyIsRefusedWith401()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Complete(new { model = "default", prompt = "hi", max_tokens = 1 }, key: "wrong"));

        Assert.Equal(401, error.Status);
    }
}
