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
        var matcher = new StopSequenceMatcher(stops);
        var text = new StringBuilder();
        int generated = 0;
        string finish = "length";

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

        // Leaving the loop early disposes the grain's stream: the model stops generating for this request.
        await foreach (var token in model.Generate(request).WithCancellation(cancellation))
        {
            generated++;

            // The engine finishes with "stop" only on an EOS token, whose text (e.g. "</s>") is no part of the answer.
            await Emit(matcher.Append(token.FinishReason == "stop" ? "" : token.Text));
            if (matcher.Stopped)
            {
                finish = "stop";
                break;
            }

            if (token.FinishReason is string reason)
            {
                finish = reason;
                break;
            }
        }

        await Emit(matcher.Flush());
        return new GenerationOutcome(text.ToString(), finish, request.PromptIds!.Length, generated);
    }
}
