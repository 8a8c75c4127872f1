using System.Globalization;
using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it: Python's <c>json.dumps(x, ensure_ascii=False, indent=...)</c>,
/// with ", " and ": " separators and no HTML escaping (Jinja's own tojson would escape &lt; and &gt;, which
/// changes the prompt tools are described in).
/// </summary>
internal static class ChatTemplateJson
{
    public static string Serialize(object? value, int? indent, ChatTemplateCall call)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, 0, call);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int? indent, int depth, ChatTemplateCall call)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : ChatTemplateValues.FormatFloat(d));
                break;
            case string s:
                WriteString(sb, s);
                break;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list.Count, indent, depth, i => Write(sb, list[i], indent, depth + 1, call));
                break;
            case Dictionary<string, object?> dict:
            {
                var entries = dict.ToList();
                WriteContainer(sb, '{', '}', entries.Count, indent, depth, i =>
                {
                    WriteString(sb, entries[i].Key);
                    sb.Append(": ");
                    Write(sb, entries[i].Value, indent, depth + 1, call);
                });
                break;
            }

            default:
                throw call.Error($"{ChatTemplateValues.TypeName(value)} is not JSON serializable; expected none, a boolean, number, string, list or mapping");
        }
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, int? indent, int depth, Action<int> writeItem)
    {
        sb.Append(open);
        if (count == 0)
        {
            sb.Append(close);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            if (indent is int n)
            {
                sb.Append(i > 0 ? "," : "").Append('\n').Append(' ', n * (depth + 1));
            }
            else if (i > 0)
            {
                sb.Append(", ");
            }

            writeItem(i);
        }

        if (indent is int m)
        {
            sb.Append('\n').Append(' ', m * depth);
        }

        sb.Append(close);
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
