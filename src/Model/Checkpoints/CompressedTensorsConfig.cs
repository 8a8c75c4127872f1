// Source: compressed-tensors QuantizationConfig (quantization/quant_config.py) as llm-compressor writes it for W8A8 int8.
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// The "quantization_config" block of config.json that marks a checkpoint as compressed-tensors W8A8 int8
/// (int8 per-channel weights, dynamic int8 per-token activations): what vLLM reads to pick its int8 kernels, and what
/// this runtime accepts when it serves a quantized checkpoint.
/// </summary>
public sealed record CompressedTensorsConfig
{
    /// <summary>The compressed-tensors release whose config layout <see cref="ToJson"/> reproduces.</summary>
    public const string DefaultVersion = "0.10.2";

    /// <summary>"int-quantized": int8 values stored as int8 tensors beside their scales.</summary>
    public string Format { get; init; } = "int-quantized";

    public string QuantMethod { get; init; } = "compressed-tensors";

    /// <summary>"compressed": the weights on disk are already int8, not fake-quantized floats.</summary>
    public string QuantizationStatus { get; init; } = "compressed";

    /// <summary>Module names or "re:" patterns left in full precision.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = ["lm_head"];

    /// <summary>Module names, "re:" patterns or class names the config group applies to.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [LayerPatterns.LinearClass];

    public CompressedTensorsQuantizationArgs Weights { get; init; } = CompressedTensorsQuantizationArgs.Int8ChannelWeights;

    public CompressedTensorsQuantizationArgs InputActivations { get; init; } =
        CompressedTensorsQuantizationArgs.Int8TokenDynamicActivations;

    /// <summary>Original size over compressed size, when measured; llm-compressor may leave it null.</summary>
    public double? GlobalCompressionRatio { get; init; }

    public string? Version { get; init; } = DefaultVersion;

    /// <summary>The W8A8 config for every linear but lm_head.</summary>
    public static CompressedTensorsConfig W8A8 { get; } = new();

    /// <summary>
    /// The config for a model quantized with <paramref name="recipe"/>: its targets, and as "ignore" the full names
    /// of the linear modules it leaves unquantized, because llm-compressor lists those (not the recipe's patterns)
    /// and vLLM matches ignore entries by exact name or regex only, not by suffix.
    /// </summary>
    public static CompressedTensorsConfig FromRecipe(QuantizationRecipe recipe, int numHiddenLayers)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentOutOfRangeException.ThrowIfNegative(numHiddenLayers);
        IEnumerable<string> linears = Enumerable.Range(0, numHiddenLayers).SelectMany(LayerPatterns.LinearNames).Append("lm_head");
        return new CompressedTensorsConfig
        {
            Targets = recipe.Targets,
            Ignore = linears.Where(name => !recipe.Quantizes(name)).ToList(),
        };
    }

    /// <summary>True when an ignore entry selects <paramref name="moduleName"/> (llm-compressor matching).</summary>
    public bool IsIgnored(string moduleName) => LayerPatterns.MatchesAny(Ignore, moduleName);

    /// <summary>True when a target selects <paramref name="moduleName"/> and no ignore entry does.</summary>
    public bool Quantizes(string moduleName) => LayerPatterns.MatchesAny(Targets, moduleName) && !IsIgnored(moduleName);

    /// <summary>The block with the field set llm-compressor writes, keys sorted as transformers writes config.json.</summary>
    public JsonObject ToJson() => new()
    {
        ["config_groups"] = new JsonObject
        {
            ["group_0"] = new JsonObject
            {
                ["input_activations"] = InputActivations.ToJson(),
                ["output_activations"] = null,
                ["targets"] = Strings(Targets),
                ["weights"] = Weights.ToJson(),
            },
        },
        ["format"] = Format,
        ["global_compression_ratio"] = GlobalCompressionRatio,
        ["ignore"] = Strings(Ignore),
        ["kv_cache_scheme"] = null,
        ["quant_method"] = QuantMethod,
        ["quantization_status"] = QuantizationStatus,
        ["version"] = Version,
    };

    /// <summary>
    /// The checkpoint's quantization_config, or null when config.json has none (an unquantized model). Throws a
    /// <see cref="ModelFormatException"/> for any quantization this runtime cannot serve.
    /// </summary>
    public static CompressedTensorsConfig? FromConfigJson(JsonObject configJson, string source) =>
        CompressedTensorsConfigReader.Read(configJson, source);

    /// <summary>Sets (or replaces) quantization_config in an existing config.json, keeping every other field.</summary>
    public static void AddTo(string configJsonPath, CompressedTensorsConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string text;
        try
        {
            text = File.ReadAllText(configJsonPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFormatException(configJsonPath, "file does not exist; expected a Hugging Face config.json", ex);
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(configJsonPath, $"not valid JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject configJson)
        {
            throw new ModelFormatException(configJsonPath, "top level is not a JSON object; expected a Hugging Face config.json");
        }

        configJson["quantization_config"] = config.ToJson();
        // Written beside and moved over, so a crash mid-write never leaves a truncated config.json.
        string temporary = configJsonPath + ".tmp";
        File.WriteAllText(temporary, configJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }) + "\n");
        File.Move(temporary, configJsonPath, overwrite: true);
    }

    // Written out because the compiler-generated equality compares the lists by reference.
    public bool Equals(CompressedTensorsConfig? other) =>
        other is not null
        && Format == other.Format
        && QuantMethod == other.QuantMethod
        && QuantizationStatus == other.QuantizationStatus
        && Ignore.SequenceEqual(other.Ignore)
        && Targets.SequenceEqual(other.Targets)
        && Weights == other.Weights
        && InputActivations == other.InputActivations
        && GlobalCompressionRatio == other.GlobalCompressionRatio
        && Version == other.Version;

    public override int GetHashCode() =>
        HashCode.Combine(Format, QuantMethod, QuantizationStatus, Ignore.Count, Targets.Count, Weights, InputActivations, Version);

    private static JsonArray Strings(IReadOnlyList<string> items) => new(items.Select(item => (JsonNode?)item).ToArray());
}
