namespace OrleansQuant.Silo.Bench;

/// <summary>
/// What is being timed, on one line of stderr rewritten in place, only when stderr is a terminal: redirected, the
/// tables printed as each part finishes are the progress, and interleaved status lines would only break them up.
/// </summary>
internal sealed class BenchProgress
{
    private readonly bool _inPlace = !Console.IsErrorRedirected;
    private int _width;

    public void Show(string text)
    {
        if (_inPlace)
        {
            Console.Error.Write("\r" + text.PadRight(_width));
            _width = text.Length;
        }
    }

    /// <summary>Blanks the line, so results printed next do not start after it.</summary>
    public void Clear()
    {
        if (_inPlace && _width > 0)
        {
            Console.Error.Write("\r" + new string(' ', _width) + "\r");
            _width = 0;
        }
    }

    /// <summary>Prints results on stdout, after clearing the progress line.</summary>
    public void Print(string text)
    {
        Clear();
        Console.WriteLine(text);
    }
}
