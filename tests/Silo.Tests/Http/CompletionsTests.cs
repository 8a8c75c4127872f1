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

    /// <summary>
    /// n choices per prompt, indexed prompt × n + sample: greedy choices all equal the engine's text; sampled ones with a
    /// seed are reproducible request to request; each prompt's tokens count once in usage.
    /// </summary>
    [Fact]
    public async Task NChoicesPerPromptAreIndexedAndCountedAsOpenAiDoes()
    {
        int[][] prompts = [[5, 17, 99, 3], [120, 7]];
        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt = prompts, max_tokens = 5, temperature = 0, n = 3 });

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal(6, choices.Length);
        int generated = 0;
        for (int p = 0; p < prompts.Length; p++)
        {
            var (ids, text) = await fixture.Engine(prompts[p], 5);
            generated += 3 * ids.Count;
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(p * 3 + k, choices[p * 3 + k].GetProperty("index").GetInt32());
                Assert.Equal(text, choices[p * 3 + k].GetProperty("text").GetString());
            }
        }

        AssertUsage(body, prompts.Sum(p => p.Length), generated);

        var sampled = new { model = "default", prompt = "The meaning of life is", max_tokens = 8, temperature = 1.0, seed = 7, n = 2 };
        var (_, first) = await fixture.Post("v1/completions", sampled);
        var (_, again) = await fixture.Post("v1/completions", sampled);
        string[] Texts(JsonElement b) => b.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()!).ToArray();
        Assert.Equal(Texts(first), Texts(again));
        Assert.Equal(2, Texts(first).Length);

        // The same for chat: n choices, each with its index.
        var (chatStatus, chat) = await fixture.Post("v1/chat/completions",
            new { model = "default", messages = new[] { new { role = "user", content = "hello" } }, max_tokens = 4, temperature = 0, n = 2 });
        Assert.Equal(HttpStatusCode.OK, chatStatus);
        var chatChoices = chat.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1], chatChoices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(chatChoices[0].GetProperty("message").GetProperty("content").GetString(), chatChoices[1].GetProperty("message").GetProperty("content").GetString());
    }

    private static void AssertUsage(JsonElement body, int promptTokens, int completionTokens)
    {
        var usage = body.GetProperty("usage");
        Assert.Equal(promptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(completionTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(promptTokens + completionTokens, usage.GetProperty("total_tokens").GetInt32());
    }
}
