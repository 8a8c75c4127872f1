using System.Text;
using System.Text.Json.Serialization;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// OpenAI's legacy <c>logprobs</c> of a /v1/completions choice, position by position: each token's text, its
/// log-probability given what came before (null for a prompt's first token, which has nothing before it), the most
/// likely tokens there as {text: log-probability} (null for that first token), and where the token's text starts in
/// the choice's text. lm-evaluation-harness's <c>local-completions</c> reads <c>token_logprobs[ctxlen:-1]</c> and
/// <c>top_logprobs</c> to score a continuation and to tell whether it is greedy.
/// </summary>
internal sealed record CompletionLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float?> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<Dictionary<string, float>?> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset)
{
    /// <summary>vLLM's floor for a log-probability in JSON, which has no −∞.</summary>
    public const float Floor = -9999f;

    /// <summary>
    /// A choice's text and logprobs from its generation. With <paramref name="echo"/> the prompt comes first — as the
    /// texts of its tokens, so that the tokens join to the text and every offset points at its token — and
    /// <paramref name="promptOnly"/> leaves the generated tokens out (max_tokens 0: scoring a prompt). Generated tokens
    /// are those the model streamed, the end-of-sequence one with the empty text the answer gives it; one that completed
    /// a stop string is listed although the text is cut before that string. <paramref name="top"/>: how many of the most
    /// likely tokens each position lists (OpenAI's <c>logprobs</c>), the position's own token added when it is not among
    /// them, as vLLM does; null answers no logprobs.
    /// </summary>
    public static (string Text, CompletionLogprobs? Logprobs) Answer(GenerationOutcome outcome, bool echo, bool promptOnly, int? top)
    {
        var positions = new List<(string Text, float? Logprob, Dictionary<string, float>? Top)>();
        if (echo)
        {
            var prompt = outcome.Tokens.Count > 0 ? outcome.Tokens[0].PromptLogprobs : null;
            foreach (var token in prompt ?? throw new InvalidOperationException("the model sent no prompt log-probabilities for an echo request"))
            {
                positions.Add((token.Text, token.Logprob, token.Logprob is float logprob ? Top(token.TopLogprobs, token.Text, logprob, top ?? 0) : null));
            }
        }

        int promptPositions = positions.Count;
        if (!promptOnly)
        {
            foreach (var token in outcome.Tokens)
            {
                string text = token.FinishReason == "stop" ? "" : token.Text;
                float logprob = token.Logprob ?? float.NaN;
                positions.Add((text, logprob, Top(token.TopLogprobs ?? [], token.Text, logprob, top ?? 0)));
            }
        }

        var echoed = new StringBuilder();
        foreach (var position in positions.Take(promptPositions))
        {
            echoed.Append(position.Text);
        }

        string answer = echoed + (promptOnly ? "" : outcome.Text);
        if (top is null)
        {
            return (answer, null);
        }

        var offsets = new int[positions.Count];
        for (int i = 1; i < positions.Count; i++)
        {
            offsets[i] = offsets[i - 1] + positions[i - 1].Text.Length;
        }

        return (answer, new CompletionLogprobs(
            positions.Select(p => p.Text).ToArray(),
            positions.Select(p => p.Logprob is float l ? Math.Max(l, Floor) : (float?)null).ToArray(),
            positions.Select(p => p.Top).ToArray(),
            offsets));
    }

    /// <summary>
    /// The first <paramref name="count"/> of the most likely tokens, by text (two ids of one text keep the likelier),
    /// and the position's own token when it is not among them.
    /// </summary>
    private static Dictionary<string, float> Top(IReadOnlyList<TokenLogprob> top, string text, float logprob, int count)
    {
        var entries = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var token in top.Take(count))
        {
            entries.TryAdd(token.Text, Math.Max(token.Logprob, Floor));
        }

        entries.TryAdd(text, Math.Max(logprob, Floor));
        return entries;
    }
}
