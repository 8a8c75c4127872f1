namespace OrleansQuant.Silo;

/// <summary>
/// A progress line: on a terminal it is rewritten in place; when the output is redirected (a file, a pipe, a test)
/// every update is its own line, as carriage returns would pile up there as one unreadable line.
/// </summary>
/// <param name="maxWidth">the terminal's width less one: a longer line wraps, and a carriage return would then rewrite only its last row.</param>
internal sealed class StatusLine(TextWriter output, bool inPlace, int maxWidth = int.MaxValue)
{
    private int _width;
    private DateTime _lastLine = DateTime.UtcNow;

    /// <summary>A status line on stdout, in place only when stdout is a terminal.</summary>
    public static StatusLine ForStandardOutput() =>
        Console.IsOutputRedirected ? new(Console.Out, inPlace: false) : new(Console.Out, inPlace: true, TerminalWidth());

    /// <summary>A status line on stderr, in place only when stderr is a terminal.</summary>
    public static StatusLine ForStandardError() =>
        Console.IsErrorRedirected ? new(Console.Error, inPlace: false) : new(Console.Error, inPlace: true, TerminalWidth());

    public bool InPlace { get; } = inPlace;

    public void Update(string text)
    {
        _lastLine = DateTime.UtcNow;
        if (!InPlace)
        {
            output.WriteLine(text);
            return;
        }

        if (text.Length > maxWidth)
        {
            text = text[..Math.Max(0, maxWidth - 1)] + "…";
        }

        // Pad over whatever the previous, longer update left on the line.
        output.Write("\r" + text.PadRight(_width));
        output.Flush();
        _width = text.Length;
    }

    /// <summary>
    /// Shows that work is still going on while nothing else moves: on a terminal in place like any update; into a file
    /// or pipe at most once every <see cref="QuietHeartbeat"/>, so a log shows life without one line every 2 s.
    /// </summary>
    public void Heartbeat(string text)
    {
        if (!InPlace && DateTime.UtcNow - _lastLine < QuietHeartbeat)
        {
            return;
        }

        Update(text);
    }

    public static readonly TimeSpan QuietHeartbeat = TimeSpan.FromSeconds(15);

    /// <summary>Ends an in-place line, so what is printed next starts on a line of its own.</summary>
    public void Finish()
    {
        if (InPlace && _width > 0)
        {
            output.WriteLine();
        }

        _width = 0;
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 1 ? Console.WindowWidth - 1 : int.MaxValue;
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
    }
}
