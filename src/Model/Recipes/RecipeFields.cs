using System.Text.Json;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// Typed reads of one modifier's fields with llm-compressor's field names, refusing unknown fields so a misspelt
/// option (say "dampening" for "dampening_frac") fails loudly instead of silently taking the default.
/// Absent and null fields both read as "not given".
/// </summary>
internal sealed class RecipeFields
{
    private readonly string _source;
    private readonly string _modifier;
    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

    public RecipeFields(string source, string modifier, JsonElement body, IReadOnlyList<string> known)
    {
        _source = source;
        _modifier = modifier;
        if (body.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(source, $"{modifier} is {Describe(body)}; expected a mapping of its fields");
        }

        foreach (JsonProperty property in body.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw new ModelFormatException(
                    source, $"unknown field '{property.Name}' in {modifier}; expected one of {string.Join(", ", known)}");
            }

            if (!_values.TryAdd(property.Name, property.Value))
            {
                throw new ModelFormatException(source, $"field '{property.Name}' appears twice in {modifier}; expected it once");
            }
        }
    }

    public JsonElement? Value(string name) =>
        _values.TryGetValue(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public double? Double(string name)
    {
        if (Value(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
        {
            throw Error(name, value, "a number");
        }

        return number;
    }

    public int? Int(string name)
    {
        if (Value(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
        {
            throw Error(name, value, "an integer");
        }

        return number;
    }

    public string? String(string name)
    {
        if (Value(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Error(name, value, "a string");
        }

        return value.GetString()!;
    }

    /// <summary>A list of strings; a lone string is read as a one-item list, as llm-compressor's Union[str, List[str]] does.</summary>
    public IReadOnlyList<string>? StringList(string name)
    {
        if (Value(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        return ReadStrings(value, $"{_modifier}.{name}");
    }

    public IReadOnlyList<string> ReadStrings(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(_source, $"{field} is {Describe(value)}; expected a list of strings");
        }

        var items = new List<string>();
        int index = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new ModelFormatException(_source, $"{field}[{index}] is {Describe(item)}; expected a string");
            }

            items.Add(item.GetString()!);
            index++;
        }

        return items;
    }

    public ModelFormatException Error(string name, JsonElement value, string expected) =>
        new(_source, $"{_modifier}.{name} is {Describe(value)}; expected {expected}");

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"'{value.GetString()}'",
        JsonValueKind.Object => "a mapping",
        JsonValueKind.Array => "a list",
        _ => value.GetRawText(),
    };
}
