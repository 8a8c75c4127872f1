// Source: YAML 1.2 core schema (yaml.org/spec/1.2.2, §10.3) for resolving plain scalars.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// YAML recipe text → the same JSON tree a JSON recipe gives, so one reader serves both and a YAML recipe and its
/// JSON twin are read identically. Plain scalars are typed the way PyYAML / the YAML core schema would type them
/// (null, booleans, integers, floats); quoted scalars stay strings.
/// </summary>
internal static partial class RecipeYaml
{
    /// <summary>Deeper than any recipe (stage → group → modifier → mappings → pair → list is 6), shallow enough for recursion.</summary>
    public const int MaxDepth = 32;

    public static JsonDocument ToJsonDocument(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            CheckBounded(text, source);
            stream.Load(new StringReader(text));
        }
        catch (Exception ex) when (ex is YamlException or ArgumentException or InvalidOperationException)
        {
            // YamlDotNet reports duplicate mapping keys as ArgumentException, and some malformed plain scalars as
            // InvalidOperationException from its scanner; all mean "not a YAML mapping we can read".
            throw new ModelFormatException(source, $"not valid YAML: {ex.Message}", ex);
        }

        if (stream.Documents.Count > 1)
        {
            throw new ModelFormatException(source, $"holds {stream.Documents.Count} YAML documents; expected one recipe");
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (stream.Documents.Count == 0)
            {
                writer.WriteNullValue();
            }
            else
            {
                try
                {
                    Write(writer, stream.Documents[0].RootNode, source);
                }
                catch (ArgumentException ex)
                {
                    // Utf8JsonWriter refuses a scalar holding a lone surrogate, which a "\ud800" escape in YAML decodes to.
                    throw new ModelFormatException(source, $"holds text that is not valid Unicode ({ex.Message}); expected UTF-8 text", ex);
                }
            }
        }

        return JsonDocument.Parse(buffer.ToArray());
    }

    // Read as events before any node is built: an alias is expanded in full wherever it is used, so nine nested
    // aliases in 481 bytes make a billion nodes, and nesting has to be bounded before the recursive walk below.
    private static void CheckBounded(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case AnchorAlias alias:
                    throw new ModelFormatException(
                        source, $"line {alias.Start.Line}: YAML alias '*{alias.Value}' is not supported; expected every value written out (aliases can expand a small recipe without bound)");
                case NodeEvent { Anchor.IsEmpty: false } node:
                    throw new ModelFormatException(
                        source, $"line {node.Start.Line}: YAML anchor '&{node.Anchor}' is not supported; expected every value written out (aliases can expand a small recipe without bound)");
                case MappingStart or SequenceStart when ++depth > MaxDepth:
                    throw new ModelFormatException(
                        source, $"line {parser.Current.Start.Line}: nested more than {MaxDepth} levels deep; expected a recipe of stages, groups and modifiers");
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    private static void Write(Utf8JsonWriter writer, YamlNode node, string source)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new ModelFormatException(
                            source, $"line {key.Start.Line}: mapping key is not a plain name; expected a field name");
                    }

                    writer.WritePropertyName(name);
                    Write(writer, value, source);
                }

                writer.WriteEndObject();
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (YamlNode item in sequence.Children)
                {
                    Write(writer, item, source);
                }

                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar);
                break;
            default:
                throw new ModelFormatException(source, $"line {node.Start.Line}: unsupported YAML node; expected a mapping, list or scalar");
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar)
    {
        string text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
        {
            writer.WriteStringValue(text);
            return;
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                writer.WriteNullValue();
                return;
            case "true" or "True" or "TRUE":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE":
                writer.WriteBooleanValue(false);
                return;
        }

        if (IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            writer.WriteNumberValue(integer);
        }
        else if (FloatPattern().IsMatch(text)
                 && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                 && double.IsFinite(number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    // Digits are required, so words double.Parse would accept ("Infinity", "NaN") stay strings.
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
