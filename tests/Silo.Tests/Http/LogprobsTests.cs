using System.Net;
using System.Text.Json;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// /v1/completions with <c>echo</c> and <c>logprobs</c>, replaying lm-evaluation-harness's <c>local-completions</c>
/// requests, checked against the model's own log-probabilities computed here in-process (the single-process forward
/// pass over the same ids, log-softmax in double, as the perplexity evaluation does). Plain HTTP, as lm-eval sends it;
/// <see cref="OfficialClientCompletionsTests"/> sends the same through the official OpenAI package's legacy completions client.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class LogprobsTests(HttpApiFixture fixture)
{
    private const double Tolerance = 1e-3;

    private static readonly Lazy<CausalLanguageModel> s_reference = new(() => CausalLanguageModel.Load(ModelDirectory.Resolve("tiny"), new CpuDevice()));

    [Fact]
    public async Task LmEvalsLoglikelihoodBatchOfTokenIdsScoresEveryPromptTokenAsTheModelDoes()
    {
        int[] context = fixture.Tokenizer.Encode("The meaning of life is").ToArray();
        int[] continuation = fixture.Tokenizer.Encode(" to be happy", false).ToArray();
        int[][] prompts = [[.. context, .. continuation], fixture.Tokenizer.Encode("Once upon a time").ToArray()];

        // lm-eval's _create_payload for loglikelihood requests, tokenized_requests=True (its default).
        var (status, body) = await fixture.Post("v1/completions", new
        {
            model = "default", prompt = prompts, temperature = 0, max_tokens = 1, logprobs = 1, seed = 1234, echo = true,
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().OrderBy(c => c.GetProperty("index").GetInt32()).ToArray();
        Assert.Equal(prompts.Length, choices.Length);
        for (int i = 0; i < prompts.Length; i++)
        {
            AssertEchoedAndScored(fixture, choices[i], prompts[i], top: 1);
        }

        // lm-eval's parse_logprobs: the continuation's summed log-probability, and whether it is greedy.
        var (logprob, _) = ParseLikeLmEval(choices[0], context.Length);
        var expected = LogSoftmax([.. prompts[0], 0]);
        double sum = Enumerable.Range(context.Length, continuation.Length).Sum(p => expected[p - 1][prompts[0][p]]);
        Assert.Equal(sum, logprob, Tolerance);
        Assert.Equal(prompts.Sum(p => p.Length), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(prompts.Length, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task LmEvalsLoglikelihoodOfStringPromptsScoresTheirTokens()
    {
        // tokenized_requests=False: the prompts go as strings, which the server tokenizes (BOS included).
        string[] prompts = ["The meaning of life is to be happy", "Once upon a time"];
        var (status, body) = await fixture.Post("v1/completions", new
        {
            model = "default", prompt = prompts, temperature = 0, max_tokens = 1, logprobs = 1, seed = 1234, echo = true,
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        for (int i = 0; i < prompts.Length; i++)
        {
            AssertEchoedAndScored(fixture, choices[i], fixture.Tokenizer.Encode(prompts[i]).ToArray(), top: 1);
        }
    }

    [Fact]
    public async Task AGreedyContinuationIsToldGreedyAndAnotherIsNot()
    {
        int[] context = fixture.Tokenizer.Encode("The meaning of life is").ToArray();
        var (greedy, _) = await fixture.Engine(context, 3);
        Assert.True(greedy.Count >= 2, "the engine stopped before two tokens");
        var expected = LogSoftmax([.. context, .. greedy]);
        // A continuation that starts with the second most likely token is not greedy.
        int second = Enumerable.Range(0, expected[0].Length).OrderByDescending(v => expected[context.Length - 1][v]).ThenBy(v => v).Skip(1).First();

        var (status, body) = await fixture.Post("v1/completions", new
        {
            model = "default", prompt = new int[][] { [.. context, .. greedy], [.. context, second, greedy[1]] },
            temperature = 0, max_tokens = 1, logprobs = 1, seed = 1234, echo = true,
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.True(ParseLikeLmEval(choices[0], context.Length).IsGreedy);
        Assert.False(ParseLikeLmEval(choices[1], context.Length).IsGreedy);
    }

    [Fact]
    public async Task LogprobsWithoutEchoScoreOnlyTheGeneratedTokens()
    {
        int[] prompt = fixture.Tokenizer.Encode("The meaning of life is").ToArray();
        var (ids, text) = await fixture.Engine(prompt, 4);
        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt, max_tokens = 4, temperature = 0, logprobs = 3 });

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(text, choice.GetProperty("text").GetString());
        var logprobs = choice.GetProperty("logprobs");
        var expected = LogSoftmax([.. prompt, .. ids]);
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(ids.Count, tokenLogprobs.Length);
        for (int t = 0; t < ids.Count; t++)
        {
            Assert.Equal(expected[prompt.Length - 1 + t][ids[t]], tokenLogprobs[t], Tolerance);
            var top = logprobs.GetProperty("top_logprobs")[t].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            // Three most likely tokens; the greedy token is the first of them, so none is added (distinct texts assumed
            // of the tiny byte-level vocabulary's likeliest tokens).
            Assert.InRange(top.Count, 1, 3);
            Assert.Equal(tokenLogprobs[t], top[fixture.Tokenizer.DecodeToken(ids[t])]);
            Assert.Equal(tokenLogprobs[t], top.Values.Max());
        }

        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
        Assert.Equal(text, string.Concat(logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString())));
    }

    [Fact]
    public async Task MaxTokensZeroWithEchoScoresThePromptOnly()
    {
        int[] prompt = fixture.Tokenizer.Encode("Once upon a time").ToArray();
        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt, max_tokens = 0, echo = true, logprobs = 0 });

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(prompt.Length, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(string.Concat(prompt.Select(fixture.Tokenizer.DecodeToken)), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var expected = LogSoftmax(prompt);
        Assert.Equal(expected[^2][prompt[^1]], logprobs.GetProperty("token_logprobs")[prompt.Length - 1].GetDouble(), Tolerance);
        // logprobs 0: each position lists only its own token.
        Assert.Single(logprobs.GetProperty("top_logprobs")[1].EnumerateObject());
    }

    [Theory]
    [InlineData(21)]
    [InlineData(-1)]
    public async Task LogprobsOutsideZeroToTwentyIsRefusedNamingTheField(int logprobs)
    {
        var (status, body) = await fixture.Post("v1/completions", new { model = "default", prompt = "Hi", max_tokens = 1, logprobs });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("logprobs", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("0 to 20", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"model":"default","prompt":"Hi","max_tokens":1,"stream":true,"logprobs":1}""", "stream")]
    [InlineData("""{"model":"default","prompt":"Hi","max_tokens":1,"stream":true,"echo":true}""", "stream")]
    [InlineData("""{"model":"default","prompt":"Hi","max_tokens":0}""", "max_tokens")]
    public async Task StreamingLogprobsAndMaxTokensZeroWithoutEchoAreRefusedNamingTheField(string json, string field)
    {
        var (status, body) = await fixture.Post("v1/completions", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task LmEvalsGenerateUntilWithAStringPromptStillAnswersTheEnginesTextCutAtTheStop()
    {
        const string prompt = "Question: The meaning of life is\nAnswer:";
        int[] ids = fixture.Tokenizer.Encode(prompt).ToArray();
        var (_, text) = await fixture.Engine(ids, 32);
        Assert.True(text.Length >= 8, $"the engine's answer is too short to test a stop string: '{text}'");
        string stop = text.Substring(4, 3);

        // lm-eval's generate_until for gsm8k with tokenized_requests=False: one string prompt, its `until` strings as
        // stop, max_gen_toks as max_tokens, greedy, seeded; no echo, no logprobs.
        var (status, body) = await fixture.Post("v1/completions", new
        {
            model = "default", prompt, max_tokens = 32, temperature = 0, seed = 1234, stop = new[] { "Question:", "</s>", "<|im_end|>", stop },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        int cut = new[] { "Question:", "</s>", "<|im_end|>", stop }.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).Min();
        Assert.Equal(text[..cut], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
    }

    /// <summary>
    /// An echoed choice of <paramref name="prompt"/>: the prompt's tokens then the generated one; null first; every
    /// log-probability the model's; tokens joined are the text and offsets point at them; each top list holds the
    /// model's most likely token, at a value no lower than the position's own.
    /// </summary>
    internal static void AssertEchoedAndScored(HttpApiFixture fixture, JsonElement choice, int[] prompt, int top)
    {
        var logprobs = choice.GetProperty("logprobs");
        string[] tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().ToArray();
        var tops = logprobs.GetProperty("top_logprobs").EnumerateArray().ToArray();
        int[] offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToArray();
        Assert.Equal(prompt.Length + 1, tokens.Length);
        Assert.Equal(tokens.Length, tokenLogprobs.Length);
        Assert.Equal(tokens.Length, tops.Length);
        Assert.Equal(tokens.Length, offsets.Length);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, tops[0].ValueKind);

        string text = choice.GetProperty("text").GetString()!;
        Assert.Equal(text, string.Concat(tokens));
        Assert.Equal(prompt.Select(fixture.Tokenizer.DecodeToken), tokens[..prompt.Length]);
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(i == 0 ? 0 : offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
            Assert.Equal(tokens[i], text.Substring(offsets[i], tokens[i].Length));
        }

        var expected = LogSoftmax([.. prompt, 0]);
        for (int p = 1; p < tokens.Length; p++)
        {
            var row = expected[p - 1];
            int argmax = Enumerable.Range(0, row.Length).MaxBy(v => row[v]);
            double value = tokenLogprobs[p].GetDouble();
            if (p < prompt.Length)
            {
                Assert.Equal(row[prompt[p]], value, Tolerance);
            }
            else
            {
                // The generated token is greedy: the argmax, at the model's value.
                Assert.Equal(row[argmax], value, Tolerance);
            }

            var entries = tops[p].EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble());
            Assert.InRange(entries.Count, 1, top + 1);
            Assert.True(entries.TryGetValue(fixture.Tokenizer.DecodeToken(argmax), out double best), $"position {p}: top_logprobs lacks the argmax token");
            Assert.True(best >= value, $"position {p}: the argmax token's {best} is below the token's {value}");
            Assert.Equal(row[argmax], best, Tolerance);
        }
    }

    /// <summary>lm-eval's OpenAI-completions parse_logprobs, line for line.</summary>
    private static (double Logprob, bool IsGreedy) ParseLikeLmEval(JsonElement choice, int contextLength)
    {
        var logprobs = choice.GetProperty("logprobs");
        int count = logprobs.GetProperty("token_logprobs").GetArrayLength();
        var tokenLogprobs = Enumerable.Range(contextLength, count - 1 - contextLength).Select(i => logprobs.GetProperty("token_logprobs")[i].GetDouble()).ToArray();
        var topLogprobs = Enumerable.Range(contextLength, count - 1 - contextLength).Select(i => logprobs.GetProperty("top_logprobs")[i]).ToArray();
        bool greedy = true;
        for (int i = 0; i < tokenLogprobs.Length; i++)
        {
            if (tokenLogprobs[i] != topLogprobs[i].EnumerateObject().Max(e => e.Value.GetDouble()))
            {
                greedy = false;
                break;
            }
        }

        return (tokenLogprobs.Sum(), greedy);
    }

    /// <summary>Row t: log P(· | tokens[..t]) from the single-process forward pass over <paramref name="tokens"/>.</summary>
    internal static double[][] LogSoftmax(int[] tokens)
    {
        const long id = long.MaxValue - 11;
        var model = s_reference.Value;
        int vocab = model.Config.VocabSize;
        float[] logits;
        lock (model)
        {
            try
            {
                logits = model.Forward(tokens, ForwardBatch.Single(id, tokens.Length), allPositions: true);
            }
            finally
            {
                model.EndSequence(id);
            }
        }

        return Enumerable.Range(0, tokens.Length).Select(t =>
        {
            var row = logits.AsSpan(t * vocab, vocab).ToArray();
            double max = row.Max();
            double log = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
            return row.Select(x => x - log).ToArray();
        }).ToArray();
    }
}
