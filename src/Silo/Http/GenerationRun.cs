using System.Text;
using OrleansQuant.Client;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>What one prompt's generation came to: the text (cut before a stop string), why it ended, its token counts.</summary>
internal sealed record GenerationOutcome(string Text, string FinishReason, int PromptTokens, int CompletionTokens);

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

        await foreach (var piece in answer.Pieces(model.Generate(request), cancellation))
        {
            await Emit(piece);
        }

        await Emit(answer.Rest);
        return new GenerationOutcome(text.ToString(), answer.FinishReason ?? "length", request.PromptIds!.Length, answer.Tokens);
    }
}
