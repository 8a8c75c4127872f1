using System.Text;

namespace OrleansQuant.Client;

/// <summary>
/// Cuts generated text before the first stop string, as it streams. Text that could still be the start of a stop
/// string is held back until the next piece shows whether it is one, so a streamed completion never shows what the
/// non-streamed one cuts. The SDK's IChatClient and the HTTP API both use it.
/// </summary>
public sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    public bool Stopped { get; private set; }

    /// <summary>Takes the next piece of text; returns what can be shown now (before a stop string, once one is hit).</summary>
    public string Append(string piece)
    {
        if (Stopped)
        {
            return "";
        }

        _pending.Append(piece);
        string pending = _pending.ToString();
        int cut = stops.Select(s => pending.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return pending[..cut];
        }

        int held = stops.Select(s => HeldLength(pending, s)).DefaultIfEmpty(0).Max();
        _pending.Remove(0, pending.Length - held);
        return pending[..^held];
    }

    /// <summary>What was held back when the text ends without a stop string.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending.ToString();
        _pending.Clear();
        return rest;
    }

    /// <summary>The longest end of <paramref name="text"/> that begins <paramref name="stop"/>.</summary>
    private static int HeldLength(string text, string stop)
    {
        for (int length = Math.Min(stop.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
