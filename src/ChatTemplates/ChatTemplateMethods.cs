namespace OrleansQuant.ChatTemplates;

/// <summary>
/// The Python methods templates call on strings and dicts (<c>content.strip()</c>, <c>tool.items()</c>), as
/// Python defines them. Nothing that mutates is offered: transformers renders in Jinja's immutable sandbox too.
/// </summary>
internal static class ChatTemplateMethods
{
    public static object? Invoke(object? target, string name, ChatTemplateCall call)
    {
        switch (target)
        {
            case string s:
                return StringMethod(s, name, call);
            case Dictionary<string, object?> dict:
                return DictMethod(dict, name, call);
            default:
                throw call.Error($"{ChatTemplateValues.TypeName(target)} has no method '{name}'; expected a string or mapping method");
        }
    }

    private static object? StringMethod(string s, string name, ChatTemplateCall call)
    {
        switch (name)
        {
            case "strip":
                return call.Has(0, "chars") && call.Arg(0, "chars") is string both ? s.Trim(both.ToCharArray()) : s.Trim();
            case "lstrip":
                return call.Has(0, "chars") && call.Arg(0, "chars") is string left ? s.TrimStart(left.ToCharArray()) : s.TrimStart();
            case "rstrip":
                return call.Has(0, "chars") && call.Arg(0, "chars") is string right ? s.TrimEnd(right.ToCharArray()) : s.TrimEnd();
            case "upper":
                return s.ToUpperInvariant();
            case "lower":
                return s.ToLowerInvariant();
            case "title" or "capitalize":
                return ChatTemplateFilters.Apply(name, s, call);
            case "startswith":
                return Affixes(call).Any(a => s.StartsWith(a, StringComparison.Ordinal));
            case "endswith":
                return Affixes(call).Any(a => s.EndsWith(a, StringComparison.Ordinal));
            case "replace":
            {
                string old = call.StringArg(0, "old");
                string replacement = call.StringArg(1, "new");
                long count = call.IntArg(2, "count", -1);
                return count < 0 ? s.Replace(old, replacement, StringComparison.Ordinal) : ReplaceFirst(s, old, replacement, count);
            }

            case "split":
                return Split(s, call.Arg(0, "sep") as string, call.IntArg(1, "maxsplit", -1));
            case "find":
                return (long)s.IndexOf(call.StringArg(0, "sub"), StringComparison.Ordinal);
            case "join":
            {
                var items = ChatTemplateValues.Iterate(call.Arg(0, "iterable")) ?? throw call.Error("expected a list to join");
                return string.Join(s, items.Select(i => i as string ?? throw call.Error($"item is {ChatTemplateValues.TypeName(i)}; expected a string")));
            }

            default:
                throw call.Error($"a string has no method '{name}'; expected strip, lstrip, rstrip, upper, lower, title, capitalize, startswith, endswith, replace, split, find or join");
        }
    }

    private static object? DictMethod(Dictionary<string, object?> dict, string name, ChatTemplateCall call) => name switch
    {
        "items" => dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
        "keys" => dict.Keys.Cast<object?>().ToList(),
        "values" => dict.Values.ToList(),
        "get" => dict.TryGetValue(call.StringArg(0, "key"), out var value) ? value : call.Arg(1, "default"),
        _ => throw call.Error($"a mapping has no method '{name}'; expected items, keys, values or get"),
    };

    /// <summary>startswith/endswith take one string or a tuple of them.</summary>
    private static IEnumerable<string> Affixes(ChatTemplateCall call) => call.Arg(0, "prefix") switch
    {
        string one => [one],
        List<object?> many => many.Select(m => m as string ?? throw call.Error($"item is {ChatTemplateValues.TypeName(m)}; expected a string")),
        var other => throw call.Error($"argument is {ChatTemplateValues.TypeName(other)}; expected a string or a tuple of strings"),
    };

    private static string ReplaceFirst(string s, string old, string replacement, long count)
    {
        var sb = new System.Text.StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    /// <summary>Python's str.split: without a separator it splits on whitespace runs and drops empty parts.</summary>
    private static List<object?> Split(string s, string? separator, long maxSplit)
    {
        var parts = new List<object?>();
        if (separator is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[i..]);
                    break;
                }

                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                parts.Add(s[start..i]);
            }

            return parts;
        }

        int pos = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(separator, pos, StringComparison.Ordinal);
            if (at < 0 || separator.Length == 0)
            {
                break;
            }

            parts.Add(s[pos..at]);
            pos = at + separator.Length;
        }

        parts.Add(s[pos..]);
        return parts;
    }
}
