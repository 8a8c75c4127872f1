// Source: llm-compressor recipe layout (recipe/recipe.py, recipe/stage.py): stages → "*_modifiers" groups → modifiers.
using System.Text.Json;
using OrleansQuant.Model.Files;

namespace OrleansQuant.Model.Recipes;

/// <summary>
/// Reads an llm-compressor recipe (YAML or JSON, same tree) into a validated <see cref="QuantizationRecipe"/>.
/// Modifiers may sit under a stage ("quant_stage") and a group ("quant_modifiers"), under a group only, or at the
/// top level; fields left out take <see cref="QuantizationRecipe.Default"/>'s values.
/// </summary>
public static class RecipeReader
{
    private static readonly string[] ModifierNames = [SmoothQuantModifier.Name, GptqModifier.Name, RtnModifier.Name];

    private static readonly string[] SmoothQuantFields = ["smoothing_strength", "mappings"];

    private static readonly string[] GptqFields = ["targets", "scheme", "ignore", "block_size", "dampening_frac", "actorder"];

    private static readonly string[] RtnFields = ["targets", "scheme", "ignore"];

    private enum Level
    {
        Root,
        Stage,
        Group,
    }

    /// <summary>Reads and validates a recipe file; errors name <paramref name="path"/>.</summary>
    public static QuantizationRecipe Load(string path)
    {
        return Parse(InputFile.ReadAllText(path, InputLimits.Recipe, "an llm-compressor recipe (YAML or JSON)"), path);
    }

    /// <summary>Parses and validates recipe text (JSON when it starts with '{', YAML otherwise).</summary>
    public static QuantizationRecipe Parse(string text, string source)
    {
        using JsonDocument document = text.TrimStart().StartsWith('{') ? ParseJson(text, source) : RecipeYaml.ToJsonDocument(text, source);
        JsonElement root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Null)
        {
            throw new ModelFormatException(source, "recipe is empty; expected stages or modifiers such as GPTQModifier");
        }

        var found = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        Collect(source, root, "recipe", Level.Root, found);

        var recipe = new QuantizationRecipe(
            found.TryGetValue(SmoothQuantModifier.Name, out JsonElement smooth) ? ReadSmoothQuant(source, smooth) : null,
            found.TryGetValue(GptqModifier.Name, out JsonElement gptq) ? ReadGptq(source, gptq) : null,
            found.TryGetValue(RtnModifier.Name, out JsonElement rtn) ? ReadRtn(source, rtn) : null);
        recipe.Validate(source);
        return recipe;
    }

    private static JsonDocument ParseJson(string text, string source)
    {
        try
        {
            var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            try
            {
                JsonStrings.RequireValid(document.RootElement, source);
                return document;
            }
            catch
            {
                document.Dispose();
                throw;
            }
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(source, $"not valid JSON: {ex.Message}", ex);
        }
    }

    private static void Collect(string source, JsonElement container, string where, Level level, Dictionary<string, JsonElement> found)
    {
        if (container.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(
                source, $"{where} is {RecipeFields.Describe(container)}; expected a mapping of {Expected(level)}");
        }

        foreach (JsonProperty property in container.EnumerateObject())
        {
            string name = property.Name;
            string path = level == Level.Root ? name : $"{where}.{name}";
            if (ModifierNames.Contains(name))
            {
                if (!found.TryAdd(name, property.Value))
                {
                    throw new ModelFormatException(source, $"{name} appears twice (again at {path}); expected it once");
                }
            }
            else if (level == Level.Root && name.EndsWith("_stage", StringComparison.Ordinal))
            {
                Collect(source, property.Value, path, Level.Stage, found);
            }
            else if (level != Level.Group && name.EndsWith("_modifiers", StringComparison.Ordinal))
            {
                Collect(source, property.Value, path, Level.Group, found);
            }
            else if (name.EndsWith("Modifier", StringComparison.Ordinal))
            {
                throw new ModelFormatException(
                    source, $"unknown modifier '{name}' at {path}; expected one of {string.Join(", ", ModifierNames)}");
            }
            else
            {
                throw new ModelFormatException(source, $"unknown field '{name}' in {where}; expected {Expected(level)}");
            }
        }
    }

    private static string Expected(Level level) => level switch
    {
        Level.Root => $"'*_stage' stages, '*_modifiers' groups or modifiers ({string.Join(", ", ModifierNames)})",
        Level.Stage => $"'*_modifiers' groups or modifiers ({string.Join(", ", ModifierNames)})",
        _ => $"modifiers ({string.Join(", ", ModifierNames)})",
    };

    private static SmoothQuantModifier ReadSmoothQuant(string source, JsonElement body)
    {
        var fields = new RecipeFields(source, SmoothQuantModifier.Name, body, SmoothQuantFields);
        return new SmoothQuantModifier(
            fields.Double("smoothing_strength") ?? SmoothQuantModifier.DefaultSmoothingStrength,
            fields.Value("mappings") is { } mappings ? ReadMappings(source, fields, mappings) : SmoothingMapping.LlamaDefaults);
    }

    private static List<SmoothingMapping> ReadMappings(string source, RecipeFields fields, JsonElement mappings)
    {
        const string Shape = "[[balance layer patterns], smooth layer pattern]";
        string field = $"{SmoothQuantModifier.Name}.mappings";
        if (mappings.ValueKind != JsonValueKind.Array)
        {
            throw fields.Error("mappings", mappings, $"a list of {Shape} pairs");
        }

        var result = new List<SmoothingMapping>();
        int index = 0;
        foreach (JsonElement pair in mappings.EnumerateArray())
        {
            string itemField = $"{field}[{index}]";
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
            {
                throw new ModelFormatException(source, $"{itemField} is {RecipeFields.Describe(pair)}; expected {Shape}");
            }

            IReadOnlyList<string> balance = fields.ReadStrings(pair[0], $"{itemField}.balance_layers");
            if (pair[1].ValueKind != JsonValueKind.String)
            {
                throw new ModelFormatException(
                    source, $"{itemField}.smooth_layer is {RecipeFields.Describe(pair[1])}; expected a string");
            }

            result.Add(new SmoothingMapping(balance, pair[1].GetString()!));
            index++;
        }

        return result;
    }

    private static GptqModifier ReadGptq(string source, JsonElement body)
    {
        var fields = new RecipeFields(source, GptqModifier.Name, body, GptqFields);
        GptqModifier defaults = GptqModifier.Default;
        return new GptqModifier(
            fields.StringList("targets") ?? defaults.Targets,
            fields.String("scheme") ?? defaults.Scheme,
            fields.StringList("ignore") ?? defaults.Ignore,
            fields.Int("block_size") ?? defaults.BlockSize,
            fields.Double("dampening_frac") ?? defaults.DampeningFrac,
            ReadActOrder(fields));
    }

    // llm-compressor takes a bool or an ActivationOrdering name; every named ordering permutes columns by
    // descending Hessian diagonal, which is what act-order means for per-channel scales.
    private static bool ReadActOrder(RecipeFields fields)
    {
        if (fields.Value("actorder") is not { } value)
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when value.GetString() is "static" or "group" or "weight" => true,
            _ => throw fields.Error("actorder", value, "true, false, null or one of 'static', 'group', 'weight'"),
        };
    }

    private static RtnModifier ReadRtn(string source, JsonElement body)
    {
        var fields = new RecipeFields(source, RtnModifier.Name, body, RtnFields);
        RtnModifier defaults = RtnModifier.Default;
        return new RtnModifier(
            fields.StringList("targets") ?? defaults.Targets,
            fields.String("scheme") ?? defaults.Scheme,
            fields.StringList("ignore") ?? defaults.Ignore);
    }
}
