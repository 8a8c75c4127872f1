using System.Runtime.CompilerServices;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// The answer text of a generation's token stream as it becomes final, cut before the first stop string: the end-of-
/// sequence token's text left out, a stop string ending the stream early (leaving the loop disposes the grain's stream,
/// which ends the generation). Read <see cref="Pieces"/> once; then <see cref="Rest"/> holds the text held back at the
/// end, <see cref="FinishReason"/> why it ended ("stop" or "length"; null when no token said), and <see cref="Tokens"/> how many were generated.
/// Shared by the SDK's IChatClient and the HTTP API.
/// </summary>
public sealed class GeneratedText(IReadOnlyList<string> stops)
{
    private readonly StopSequenceMatcher _matcher = new(stops);

    public string? FinishReason { get; private set; }

    public int Tokens { get; private set; }

    /// <summary>Text the matcher still held when the stream ended (not part of a stop string); empty until then.</summary>
    public string Rest { get; private set; } = "";

    public async IAsyncEnumerable<string> Pieces(IAsyncEnumerable<GeneratedToken> tokens, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await foreach (var token in tokens.WithCancellation(cancellation))
        {
            Tokens++;

            // The engine finishes with "stop" only on an end-of-sequence token, whose text (e.g. "</s>") is no part of the answer.
            string piece = _matcher.Append(token.FinishReason == "stop" ? "" : token.Text);
            if (piece.Length > 0)
            {
                yield return piece;
            }

            if (_matcher.Stopped)
            {
                FinishReason = "stop";
                break;
            }

            if (token.FinishReason is string reason)
            {
                FinishReason = reason;
                break;
            }
        }

        Rest = _matcher.Flush();
    }
}
