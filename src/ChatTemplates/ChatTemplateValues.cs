using System.Globalization;
using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>
/// Python semantics over the template's value model: null (None), <see cref="ChatTemplateUndefined"/>, bool, long,
/// double, string, <c>List&lt;object?&gt;</c>, <c>Dictionary&lt;string, object?&gt;</c>, <see cref="ChatTemplateNamespace"/>
/// and <see cref="ChatTemplateFunction"/>. Truthiness, str(), repr() and == follow Python because the templates
/// were written against Jinja running on Python, and the rendered prompt must match byte for byte.
/// </summary>
internal static class ChatTemplateValues
{
    public static string TypeName(object? value) => value switch
    {
        null => "none",
        ChatTemplateUndefined u => $"undefined ('{u.Name}')",
        bool => "a boolean",
        long => "an integer",
        double => "a float",
        string => "a string",
        List<object?> => "a list",
        Dictionary<string, object?> => "a mapping",
        ChatTemplateNamespace => "a namespace",
        ChatTemplateFunction f => $"the function {f.Name}",
        _ => value.GetType().Name,
    };

    public static bool IsTruthy(object? value) => value switch
    {
        null or ChatTemplateUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        Dictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>Python's str(): what <c>{{ value }}</c> writes.</summary>
    public static string ToText(object? value) => value switch
    {
        string s => s,
        ChatTemplateUndefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("None");
                break;
            case ChatTemplateUndefined:
                break;
            case bool b:
                sb.Append(b ? "True" : "False");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(FormatFloat(d));
                break;
            case string s:
                AppendStringRepr(sb, s);
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    AppendRepr(sb, list[i]);
                }

                sb.Append(']');
                break;
            case Dictionary<string, object?> dict:
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in dict)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    AppendStringRepr(sb, k);
                    sb.Append(": ");
                    AppendRepr(sb, v);
                }

                sb.Append('}');
                break;
            case ChatTemplateNamespace:
                sb.Append("<Namespace>");
                break;
            case ChatTemplateFunction f:
                sb.Append("<function ").Append(f.Name).Append('>');
                break;
            default:
                sb.Append(value);
                break;
        }
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append(quote);
    }

    /// <summary>Python's float repr: shortest round-trip digits, always with a '.0' or exponent.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        string r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E'))
        {
            // .NET writes 1E-05 where Python writes 1e-05.
            int e = r.IndexOf('E');
            string mantissa = r[..e];
            int exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }

        return r.Contains('.') ? r : r + ".0";
    }

    public static new bool Equals(object? a, object? b)
    {
        if (a is ChatTemplateUndefined || b is ChatTemplateUndefined)
        {
            return a is ChatTemplateUndefined && b is ChatTemplateUndefined;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return ToDouble(a) == ToDouble(b);
        }

        switch (a)
        {
            case null:
                return b is null;
            case string s:
                return b is string t && s == t;
            case List<object?> x when b is List<object?> y:
                return x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second));
            case Dictionary<string, object?> x when b is Dictionary<string, object?> y:
                return x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var v) && Equals(p.Value, v));
            default:
                return ReferenceEquals(a, b);
        }
    }

    /// <summary>Python bool is an int subtype, so True + 1 and True == 1 behave numerically.</summary>
    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => double.NaN,
    };

    public static long ToLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => 0,
    };

    /// <summary>Ordering for &lt; &gt; and sort; null when Python would raise TypeError.</summary>
    public static int? Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return a is double || b is double ? ToDouble(a).CompareTo(ToDouble(b)) : ToLong(a).CompareTo(ToLong(b));
        }

        if (a is string s && b is string t)
        {
            return string.CompareOrdinal(s, t);
        }

        if (a is List<object?> x && b is List<object?> y)
        {
            for (int i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                if (!Equals(x[i], y[i]))
                {
                    return Compare(x[i], y[i]);
                }
            }

            return x.Count.CompareTo(y.Count);
        }

        return null;
    }

    /// <summary>The items a for loop visits: list elements, mapping keys, string characters; undefined is empty.</summary>
    public static List<object?>? Iterate(object? value) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> dict => dict.Keys.Cast<object?>().ToList(),
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        ChatTemplateUndefined => [],
        _ => null,
    };

    public static long? Length(object? value) => value switch
    {
        string s => s.Length,
        List<object?> list => list.Count,
        Dictionary<string, object?> dict => dict.Count,
        ChatTemplateUndefined => 0,
        _ => null,
    };

    /// <summary>
    /// <c>x.name</c> and <c>x[key]</c>: a missing key, attribute or out-of-range index is undefined rather than an
    /// error, as in Jinja, because templates test optional fields that way.
    /// </summary>
    public static object? Lookup(object? target, object? key, string description)
    {
        switch (target)
        {
            case Dictionary<string, object?> dict when key is string name:
                return dict.TryGetValue(name, out var value) ? value : new ChatTemplateUndefined(description);
            case ChatTemplateNamespace ns when key is string name:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : new ChatTemplateUndefined(description);
            case List<object?> list when key is long or bool:
            {
                long i = ToLong(key);
                i = i < 0 ? i + list.Count : i;
                return i >= 0 && i < list.Count ? list[(int)i] : new ChatTemplateUndefined(description);
            }

            case string s when key is long or bool:
            {
                long i = ToLong(key);
                i = i < 0 ? i + s.Length : i;
                return i >= 0 && i < s.Length ? s[(int)i].ToString() : new ChatTemplateUndefined(description);
            }

            default:
                return new ChatTemplateUndefined(description);
        }
    }
}
