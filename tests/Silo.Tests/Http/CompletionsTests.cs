using System.Net;
using System.Text;
using System.Text.Json;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>/v1/completions over plain HTTP (OpenAI 2.x has no legacy-completions client), in lm-evaluation-harness's shapes.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class CompletionsTests(HttpApiFixture fixture)
{
    private const string Prompt = "The meaning of life is";

    [Fact]
    public async Task AGreedyTextCompletionIsWhatTheEngineGenerates()
    {
        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt = Prompt, max_tokens = 10, temperature = 0 });

        Assert.Equal(HttpStatusCode.OK, status);
        int[] prompt = fixture.Tokenizer.Encode(Prompt).ToArray();
        var (ids, text) = await fixture.Engine(prompt, 10);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(text, choice.GetProperty("text").GetString());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal("default", body.GetProperty("model").GetString());
        AssertUsage(body, prompt.Length, ids.Count);
    }

    [Fact]
    public async Task ABatchOfTokenIdListsAnswersOneChoicePerPromptInOrder()
    {
        int[][] prompts = [[5, 17, 99, 3], [120, 7], [64, 65, 66, 67, 68, 69]];

        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt = prompts, max_tokens = 6, temperature = 0 });

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal(prompts.Length, choices.Length);
        int completionTokens = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var (ids, text) = await fixture.Engine(prompts[i], 6);
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            Assert.Equal(text, choices[i].GetProperty("text").GetString());
            completionTokens += ids.Count;
        }

        AssertUsage(body, prompts.Sum(p => p.Length), completionTokens);
    }

    [Fact]
    public async Task LmEvalsGenerateUntilShapeStopsAtTheFirstStopString()
    {
        int[] prompt = fixture.Tokenizer.Encode(Prompt).ToArray();
        var (ids, text) = await fixture.Engine(prompt, 24);
        Assert.True(text.Length >= 12, $"the engine's answer is too short to test stop strings: '{text}'");
        string first = text.Substring(5, 2), later = text.Substring(9, 3);
        int cut = text.IndexOf(first, StringComparison.Ordinal);

        // lm-eval's generate_until: a batch of prompt ids, stop strings, a token cap, greedy, a seed.
        var (status, body) = await fixture.Post("v1/completions", new
        {
            model = "default", prompt = new[] { prompt }, max_tokens = 24, temperature = 0, seed = 1234, stop = new[] { later, first },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(text[..cut], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        // Generation ended with the token that completed the stop string, not at max_tokens.
        int completionTokens = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 1, ids.Count - 1);
        Assert.Contains(first, (await fixture.Engine(prompt, completionTokens)).Text);
        Assert.DoesNotContain(first, (await fixture.Engine(prompt, completionTokens - 1)).Text);
    }

    [Fact]
    public async Task StreamedChunksConcatenateToTheWholeCompletion()
    {
        var request = new { model = "default", prompt = Prompt, max_tokens = 12, temperature = 0, stop = "e", stream = true, stream_options = new { include_usage = true } };
        var (_, whole) = await fixture.Post("v1/completions", new { model = "default", prompt = Prompt, max_tokens = 12, temperature = 0, stop = "e" });

        using var response = await fixture.Http.PostAsync("v1/completions", new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        var choices = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).ToArray();
        var wholeChoice = whole.GetProperty("choices")[0];
        Assert.Equal(wholeChoice.GetProperty("text").GetString(), string.Concat(choices.Select(c => c.GetProperty("text").GetString())));
        Assert.Equal(wholeChoice.GetProperty("finish_reason").GetString(), choices[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(whole.GetProperty("usage").GetRawText(), chunks[^1].GetProperty("usage").GetRawText());
    }

    private static void AssertUsage(JsonElement body, int promptTokens, int completionTokens)
    {
        var usage = body.GetProperty("usage");
        Assert.Equal(promptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(completionTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(promptTokens + completionTokens, usage.GetProperty("total_tokens").GetInt32());
    }
}
