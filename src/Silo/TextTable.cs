using System.Text;

namespace OrleansQuant.Silo;

/// <summary>A plain-text table for the console: a header, a rule, and columns padded to their widest cell.</summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = new();

    public TextTable(params string[] headers) => _headers = headers;

    public TextTable Add(params object[] cells)
    {
        _rows.Add(cells.Select(c => c switch
        {
            double d => d.ToString("G4"),
            TimeSpan t => $"{t.TotalSeconds:F2}s",
            _ => c?.ToString() ?? "",
        }).ToArray());
        return this;
    }

    public override string ToString()
    {
        var widths = _headers.Select((h, i) => Math.Max(h.Length, _rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> cells) =>
            text.AppendLine(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        Line(_headers);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in _rows)
        {
            Line(row);
        }

        return text.ToString();
    }
}
