using System.Runtime.CompilerServices;
using System.Text;
using OrleansQuant.Client;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// What one prompt's generation came to: the text (cut before a stop string), why it ended, its token counts, and the
/// tokens as the model streamed them (for logprobs; the first carries the prompt's scores when they were asked for).
/// </summary>
internal sealed record GenerationOutcome(string Text, string FinishReason, int PromptTokens, int CompletionTokens, IReadOnlyList<GeneratedToken> Tokens);

/// <summary>
/// Runs one generation through the model grain for the completions endpoints, streamed or not: applies stop strings,
/// and ends the grain's stream (which drops the sequence from its lane) as soon as one is hit or the client leaves.
/// </summary>
internal static class GenerationRun
{
    /// <param name="onText">receives each piece of text as it becomes final (for streaming); null collects only.</param>
    public static async Task<GenerationOutcome> Run(IModelGrain model, GenerateRequest request, IReadOnlyList<string> stops,
        Func<string, Task>? onText, CancellationToken cancellation)
    {
        var answer = new GeneratedText(stops);
        var text = new StringBuilder();
        var tokens = new List<GeneratedToken>();

        async Task Emit(string piece)
        {
            if (piece.Length > 0)
            {
                text.Append(piece);
                if (onText is not null)
                {
                    await onText(piece);
                }
            }
        }

        await foreach (var piece in answer.Pieces(Kept(model.Generate(request), tokens), cancellation))
        {
            await Emit(piece);
        }

        await Emit(answer.Rest);
        return new GenerationOutcome(text.ToString(), answer.FinishReason ?? "length", request.PromptIds!.Length, answer.Tokens, tokens);
    }

    /// <summary>The stream as it is (its reader's cancellation passed on), each token also kept in <paramref name="kept"/>.</summary>
    private static async IAsyncEnumerable<GeneratedToken> Kept(IAsyncEnumerable<GeneratedToken> tokens, List<GeneratedToken> kept,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await foreach (var token in tokens.WithCancellation(cancellation))
        {
            kept.Add(token);
            yield return token;
        }
    }
}
