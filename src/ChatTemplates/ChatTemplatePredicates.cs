namespace OrleansQuant.ChatTemplates;

/// <summary>Jinja tests (<c>x is defined</c>, <c>x is not none</c>, and the names select/reject take).</summary>
internal static class ChatTemplatePredicates
{
    public static readonly string[] Names =
    [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "even", "false", "float", "ge", "gt", "in",
        "integer", "iterable", "le", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence",
        "string", "true", "undefined", "upper",
    ];

    public static bool IsKnown(string name) => Names.Contains(name) || name is "==" or "!=" or "<" or ">" or "<=" or ">=";

    public static bool Apply(string name, object? value, ChatTemplateCall call)
    {
        object? Other() => call.Has(0, "value") ? call.Arg(0, "value") : throw call.Error("expected an argument to compare with");

        switch (name)
        {
            case "defined": return value is not ChatTemplateUndefined;
            case "undefined": return value is ChatTemplateUndefined;
            case "none": return value is null;
            case "boolean": return value is bool;
            case "true": return value is true;
            case "false": return value is false;
            case "string": return value is string;
            case "number": return value is long or double;
            case "integer": return value is long;
            case "float": return value is double;
            case "mapping": return value is Dictionary<string, object?>;
            case "iterable": return value is string or List<object?> or Dictionary<string, object?>;
            case "sequence": return value is string or List<object?> or Dictionary<string, object?>;
            case "callable": return value is ChatTemplateFunction;
            case "lower": return value is string lower && lower == lower.ToLowerInvariant();
            case "upper": return value is string upper && upper == upper.ToUpperInvariant();
            case "odd": return Integer(value, call) % 2 != 0;
            case "even": return Integer(value, call) % 2 == 0;
            case "divisibleby":
            {
                long divisor = call.IntArg(0, "num", 0);
                return divisor != 0 ? Integer(value, call) % divisor == 0 : throw call.Error("divisor is 0; expected a non-zero integer");
            }

            case "eq" or "equalto" or "==": return ChatTemplateValues.Equals(value, Other());
            case "ne" or "!=": return !ChatTemplateValues.Equals(value, Other());
            case "sameas": return ReferenceEquals(value, Other()) || (value is null or bool && ChatTemplateValues.Equals(value, Other()));
            case "in": return ChatTemplateOperators.Contains(Other(), value, call);
            case "lt" or "<": return Ordered(value, Other(), call) < 0;
            case "le" or "<=": return Ordered(value, Other(), call) <= 0;
            case "gt" or ">": return Ordered(value, Other(), call) > 0;
            case "ge" or ">=": return Ordered(value, Other(), call) >= 0;
            default: throw call.Error($"unknown test '{name}'; expected one of {string.Join(", ", Names)}");
        }
    }

    private static long Integer(object? value, ChatTemplateCall call) =>
        value is long or bool ? ChatTemplateValues.ToLong(value) : throw call.Error($"the value is {ChatTemplateValues.TypeName(value)}; expected an integer");

    private static int Ordered(object? a, object? b, ChatTemplateCall call) =>
        ChatTemplateValues.Compare(a, b) ?? throw call.Error($"cannot order {ChatTemplateValues.TypeName(a)} and {ChatTemplateValues.TypeName(b)}");
}
