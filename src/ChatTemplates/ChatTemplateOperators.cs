using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>Arithmetic, concatenation and membership with Python's rules (int/int true division, floored % and //).</summary>
internal static class ChatTemplateOperators
{
    public static object? Binary(string op, object? a, object? b, ChatTemplateCall call)
    {
        if (op == "~")
        {
            return ChatTemplateValues.ToText(a) + ChatTemplateValues.ToText(b);
        }

        if (a is ChatTemplateUndefined || b is ChatTemplateUndefined)
        {
            var undefined = a as ChatTemplateUndefined ?? (ChatTemplateUndefined)b!;
            throw call.Error($"'{undefined.Name}' is undefined; expected a value for '{op}'");
        }

        if (ChatTemplateValues.IsNumber(a) && ChatTemplateValues.IsNumber(b))
        {
            return Arithmetic(op, a, b, call);
        }

        switch (op)
        {
            case "+" when a is string s && b is string t:
                return s + t;
            case "+" when a is List<object?> x && b is List<object?> y:
                return x.Concat(y).ToList();
            case "*" when a is string s && b is long or bool:
                return Repeat(s, ChatTemplateValues.ToLong(b));
            case "*" when b is string s && a is long or bool:
                return Repeat(s, ChatTemplateValues.ToLong(a));
            default:
                throw call.Error($"unsupported operand types for {op}: {ChatTemplateValues.TypeName(a)} and {ChatTemplateValues.TypeName(b)}");
        }
    }

    private static string Repeat(string s, long count)
    {
        var sb = new StringBuilder();
        for (long i = 0; i < count; i++)
        {
            sb.Append(s);
        }

        return sb.ToString();
    }

    private static object Arithmetic(string op, object? a, object? b, ChatTemplateCall call)
    {
        bool integers = a is not double && b is not double;
        if (integers)
        {
            long x = ChatTemplateValues.ToLong(a);
            long y = ChatTemplateValues.ToLong(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": return y != 0 ? (double)x / y : throw call.Error("division by zero");
                case "//": return y != 0 ? FloorDiv(x, y) : throw call.Error("integer division by zero");
                case "%": return y != 0 ? x - (FloorDiv(x, y) * y) : throw call.Error("modulo by zero");
                case "**" when y >= 0: return (long)Math.Pow(x, y);
                case "**": return Math.Pow(x, y);
            }
        }

        double p = ChatTemplateValues.ToDouble(a);
        double q = ChatTemplateValues.ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q != 0 ? p / q : throw call.Error("division by zero"),
            "//" => q != 0 ? Math.Floor(p / q) : throw call.Error("division by zero"),
            "%" => q != 0 ? p - (Math.Floor(p / q) * q) : throw call.Error("modulo by zero"),
            "**" => Math.Pow(p, q),
            _ => throw call.Error($"unknown operator '{op}'"),
        };
    }

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    /// <summary>Python's <c>item in container</c>: substring, list element or mapping key.</summary>
    public static bool Contains(object? container, object? item, ChatTemplateCall call) => container switch
    {
        string s when item is string t => s.Contains(t, StringComparison.Ordinal),
        List<object?> list => list.Any(x => ChatTemplateValues.Equals(x, item)),
        Dictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        ChatTemplateNamespace ns => item is string key && ns.Attributes.ContainsKey(key),
        ChatTemplateUndefined => false,
        _ => throw call.Error($"'in' needs a string, list or mapping on the right; got {ChatTemplateValues.TypeName(container)}"),
    };
}
