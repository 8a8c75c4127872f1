using System.Globalization;

namespace OrleansQuant.ChatTemplates;

/// <summary>The Jinja filters (<c>value | name(args)</c>) that Hugging Face chat templates use, with Jinja's meaning.</summary>
internal static class ChatTemplateFilters
{
    public static readonly string[] Names =
    [
        "abs", "capitalize", "count", "d", "default", "first", "float", "int", "items", "join", "last", "length", "list",
        "lower", "map", "reject", "rejectattr", "replace", "reverse", "safe", "select", "selectattr", "string", "title",
        "tojson", "trim", "upper",
    ];

    public static bool IsKnown(string name) => Names.Contains(name);

    public static object? Apply(string name, object? value, ChatTemplateCall call)
    {
        switch (name)
        {
            case "trim":
                return call.Has(0, "chars") ? Text(value, call).Trim(call.StringArg(0, "chars").ToCharArray()) : Text(value, call).Trim();
            case "upper":
                return Text(value, call).ToUpperInvariant();
            case "lower":
                return Text(value, call).ToLowerInvariant();
            case "capitalize":
            {
                string s = Text(value, call);
                return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            }

            case "title":
                return CultureInfo.InvariantCulture.TextInfo.ToTitleCase(Text(value, call).ToLowerInvariant());
            case "replace":
                return Text(value, call).Replace(call.StringArg(0, "old"), call.StringArg(1, "new"), StringComparison.Ordinal);
            case "length" or "count":
                return ChatTemplateValues.Length(value) ?? throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected a string, list or mapping");
            case "string":
                return ChatTemplateValues.ToText(value);
            case "safe":
                return value;
            case "int":
                return ToInt(value, call);
            case "float":
                return ToFloat(value, call);
            case "abs":
                return value switch
                {
                    long l => Math.Abs(l),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected a number"),
                };
            case "default" or "d":
            {
                bool boolean = ChatTemplateValues.IsTruthy(call.Arg(1, "boolean", false));
                bool useDefault = value is ChatTemplateUndefined || (boolean && !ChatTemplateValues.IsTruthy(value));
                return useDefault ? call.Arg(0, "default_value", "") : value;
            }

            case "tojson":
            {
                object? indent = call.Arg(0, "indent");
                return ChatTemplateJson.Serialize(value, indent is long n ? (int)n : null, call);
            }

            case "items":
                return value switch
                {
                    Dictionary<string, object?> dict => dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
                    ChatTemplateUndefined => new List<object?>(),
                    _ => throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected a mapping"),
                };
            case "list":
                return Items(value, call).ToList();
            case "first":
            {
                var items = Items(value, call);
                return items.Count > 0 ? items[0] : new ChatTemplateUndefined("first of an empty sequence");
            }

            case "last":
            {
                var items = Items(value, call);
                return items.Count > 0 ? items[^1] : new ChatTemplateUndefined("last of an empty sequence");
            }

            case "reverse":
                return value is string text ? new string(text.Reverse().ToArray()) : Enumerable.Reverse(Items(value, call)).ToList();
            case "join":
            {
                string separator = call.Has(0, "d") ? call.StringArg(0, "d") : "";
                object? attribute = call.Arg(1, "attribute");
                var items = Items(value, call).Select(x => attribute is null ? x : Attribute(x, attribute));
                return string.Join(separator, items.Select(ChatTemplateValues.ToText));
            }

            case "select" or "reject":
            {
                bool keep = name == "select";
                return Items(value, call).Where(x => Test(x, 0, call) == keep).ToList();
            }

            case "selectattr" or "rejectattr":
            {
                bool keep = name == "selectattr";
                object? attribute = call.Arg(0, "attribute") ?? throw call.Error("expected the attribute name as the first argument");
                return Items(value, call).Where(x => Test(Attribute(x, attribute), 1, call) == keep).ToList();
            }

            case "map":
            {
                if (call.Named.TryGetValue("attribute", out var attribute))
                {
                    object? fallback = call.Named.GetValueOrDefault("default");
                    return Items(value, call).Select(x =>
                    {
                        var v = Attribute(x, attribute);
                        return v is ChatTemplateUndefined && call.Named.ContainsKey("default") ? fallback : v;
                    }).ToList();
                }

                string filter = call.StringArg(0, "filter");
                if (!IsKnown(filter))
                {
                    throw call.Error($"unknown filter '{filter}'; expected one of {string.Join(", ", Names)}");
                }

                var rest = new ChatTemplateCall(call.Source, call.Offset, filter, call.Positional.Skip(1).ToList(), call.Named);
                return Items(value, call).Select(x => Apply(filter, x, rest)).ToList();
            }

            default:
                throw call.Error($"unknown filter '{name}'; expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>A select/reject test given by name at <paramref name="index"/>; without one, plain truthiness.</summary>
    private static bool Test(object? item, int index, ChatTemplateCall call)
    {
        if (!call.Has(index, "test"))
        {
            return ChatTemplateValues.IsTruthy(item);
        }

        string test = call.StringArg(index, "test");
        if (!ChatTemplatePredicates.IsKnown(test))
        {
            throw call.Error($"unknown test '{test}'; expected one of {string.Join(", ", ChatTemplatePredicates.Names)}");
        }

        var args = new ChatTemplateCall(call.Source, call.Offset, test, call.Positional.Skip(index + 1).ToList(), new Dictionary<string, object?>());
        return ChatTemplatePredicates.Apply(test, item, args);
    }

    /// <summary>Jinja's attribute argument: "a.b" walks nested keys, an integer indexes.</summary>
    private static object? Attribute(object? item, object? attribute)
    {
        if (attribute is string path)
        {
            foreach (string part in path.Split('.'))
            {
                item = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long index) && item is List<object?>
                    ? ChatTemplateValues.Lookup(item, index, part)
                    : ChatTemplateValues.Lookup(item, part, part);
            }

            return item;
        }

        return ChatTemplateValues.Lookup(item, attribute, ChatTemplateValues.ToText(attribute));
    }

    private static List<object?> Items(object? value, ChatTemplateCall call) =>
        ChatTemplateValues.Iterate(value) ?? throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected a list, mapping or string");

    private static string Text(object? value, ChatTemplateCall call) => value switch
    {
        string s => s,
        ChatTemplateUndefined => "",
        null or bool or long or double => ChatTemplateValues.ToText(value),
        _ => throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected a string"),
    };

    private static object? ToInt(object? value, ChatTemplateCall call) => value switch
    {
        long l => l,
        bool b => b ? 1L : 0L,
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) => l,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)Math.Truncate(d),
        _ => call.Arg(0, "default", 0L),
    };

    private static object? ToFloat(object? value, ChatTemplateCall call) => value switch
    {
        long or bool or double => ChatTemplateValues.ToDouble(value),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => call.Arg(0, "default", 0.0),
    };
}
