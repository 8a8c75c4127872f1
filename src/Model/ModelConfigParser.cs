using System.Text.Json;

namespace OrleansQuant.Model;

/// <summary>
/// config.json → <see cref="ModelConfig"/>, applying the defaults of transformers' LlamaConfig, MistralConfig and
/// Qwen2Config for absent (or null) optional fields, and refusing fields whose values the decoder cannot honour.
/// </summary>
internal static class ModelConfigParser
{
    public static ModelConfig Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(source, $"not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            Files.JsonStrings.RequireValid(document.RootElement, source);
            var fields = new Fields(source, document.RootElement);
            string architecture = ReadArchitecture(fields);
            string modelType = ModelConfigArchitectures.ModelTypeOf(architecture)!;
            string? declaredType = fields.OptionalString("model_type");
            if (declaredType is not null && declaredType != modelType)
            {
                throw new ModelFormatException(
                    source, $"field 'model_type' is '{declaredType}' but architectures[0] is '{architecture}'; expected '{modelType}'");
            }

            string? hiddenAct = fields.OptionalString("hidden_act");
            if (hiddenAct is not null && hiddenAct != "silu")
            {
                throw new ModelFormatException(source, $"field 'hidden_act' is '{hiddenAct}'; expected 'silu'");
            }

            if (modelType == "llama" && fields.OptionalBool("mlp_bias") == true)
            {
                throw new ModelFormatException(source, "field 'mlp_bias' is true; expected false (MLP biases are not supported)");
            }

            int hiddenSize = fields.RequiredInt("hidden_size");
            int intermediateSize = fields.RequiredInt("intermediate_size");
            int numHiddenLayers = fields.RequiredInt("num_hidden_layers");
            int numAttentionHeads = fields.RequiredInt("num_attention_heads");
            int vocabSize = fields.RequiredInt("vocab_size");
            double rmsNormEps = fields.RequiredDouble("rms_norm_eps");

            int? headDim = fields.OptionalInt("head_dim");
            if (headDim is null && numAttentionHeads > 0 && hiddenSize % numAttentionHeads != 0)
            {
                throw new ModelFormatException(
                    source,
                    $"field 'hidden_size' {hiddenSize} is not divisible by 'num_attention_heads' {numAttentionHeads} and 'head_dim' is absent; expected head_dim or divisible sizes");
            }

            // transformers 5 moves rope_theta and the scaling into "rope_parameters"; older files use top-level fields.
            JsonElement? ropeParameters = fields.OptionalObject("rope_parameters");
            double ropeTheta = fields.OptionalDouble("rope_theta")
                ?? (ropeParameters is { } p ? new Fields(source, p, "rope_parameters.").OptionalDouble("rope_theta") : null)
                ?? 10000;
            JsonElement? ropeScalingElement = fields.OptionalObject("rope_scaling") ?? ropeParameters;
            string ropeField = fields.OptionalObject("rope_scaling") is not null ? "rope_scaling" : "rope_parameters";

            var config = new ModelConfig
            {
                Architecture = architecture,
                ModelType = modelType,
                VocabSize = vocabSize,
                HiddenSize = hiddenSize,
                IntermediateSize = intermediateSize,
                NumHiddenLayers = numHiddenLayers,
                NumAttentionHeads = numAttentionHeads,
                NumKeyValueHeads = fields.OptionalInt("num_key_value_heads") ?? numAttentionHeads,
                HeadDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0),
                MaxPositionEmbeddings = fields.OptionalInt("max_position_embeddings") ?? DefaultMaxPositions(modelType),
                RmsNormEps = rmsNormEps,
                RopeTheta = ropeTheta,
                RopeScaling = ropeScalingElement is { } r ? ReadRopeScaling(new Fields(source, r, ropeField + ".")) : null,
                TieWordEmbeddings = fields.OptionalBool("tie_word_embeddings") ?? false,
                AttentionBias = modelType switch
                {
                    "qwen2" => true,
                    "llama" => fields.OptionalBool("attention_bias") ?? false,
                    _ => false,
                },
                BosTokenId = fields.OptionalInt("bos_token_id"),
                EosTokenIds = fields.IntOrIntList("eos_token_id"),
                SlidingWindow = ReadSlidingWindow(fields, modelType),
                TorchDtype = fields.OptionalString("torch_dtype") ?? fields.OptionalString("dtype") ?? "float32",
            };

            ModelConfigValidator.Validate(config, source);
            return config;
        }
    }

    private static string ReadArchitecture(Fields fields)
    {
        JsonElement architectures = fields.Required("architectures", JsonValueKind.Array, "a list of class names");
        if (architectures.GetArrayLength() == 0 || architectures[0].ValueKind != JsonValueKind.String)
        {
            throw new ModelFormatException(
                fields.Source, "field 'architectures' is empty or its first entry is not a string; expected a list of class names");
        }

        string architecture = architectures[0].GetString()!;
        if (ModelConfigArchitectures.ModelTypeOf(architecture) is null)
        {
            throw new ModelFormatException(fields.Source, ModelConfigArchitectures.UnknownArchitectureMessage(architecture));
        }

        return architecture;
    }

    // Defaults of LlamaConfig (2048), MistralConfig (4096 * 32) and Qwen2Config (32768).
    private static int DefaultMaxPositions(string modelType) => modelType switch
    {
        "mistral" => 4096 * 32,
        "qwen2" => 32768,
        _ => 2048,
    };

    private static RopeScaling? ReadRopeScaling(Fields fields)
    {
        string? type = fields.OptionalString("rope_type") ?? fields.OptionalString("type");
        if (type is null or "default")
        {
            return null;
        }

        if (type != RopeScaling.Llama3)
        {
            throw new ModelFormatException(
                fields.Source, $"field '{fields.Prefix}rope_type' is '{type}'; expected '{RopeScaling.Llama3}' (or 'default' for no scaling)");
        }

        return new RopeScaling(
            type,
            fields.RequiredDouble("factor"),
            fields.RequiredDouble("low_freq_factor"),
            fields.RequiredDouble("high_freq_factor"),
            fields.RequiredInt("original_max_position_embeddings"));
    }

    private static int? ReadSlidingWindow(Fields fields, string modelType)
    {
        switch (modelType)
        {
            case "mistral":
                // MistralConfig defaults to a 4096 window; only an explicit null means full attention.
                return fields.IsPresent("sliding_window") ? fields.OptionalInt("sliding_window") : 4096;
            case "qwen2":
                // Qwen2 ships sliding_window but disables it; when enabled it applies only from max_window_layers on.
                if (fields.OptionalBool("use_sliding_window") == true)
                {
                    throw new ModelFormatException(
                        fields.Source, "field 'use_sliding_window' is true; expected false (Qwen2 per-layer sliding windows are not supported)");
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>Typed access to one JSON object's fields, with errors that name the field and the expected type.</summary>
    private sealed class Fields
    {
        private readonly JsonElement _element;

        public Fields(string source, JsonElement element, string prefix = "")
        {
            Source = source;
            Prefix = prefix;
            if (element.ValueKind != JsonValueKind.Object)
            {
                string what = prefix.Length == 0 ? "config" : $"field '{prefix.TrimEnd('.')}'";
                throw new ModelFormatException(source, $"{what} is a JSON {JsonKinds.Describe(element.ValueKind)}; expected an object");
            }

            _element = element;
        }

        public string Source { get; }

        public string Prefix { get; }

        public bool IsPresent(string name) => _element.TryGetProperty(name, out _);

        public JsonElement Required(string name, JsonValueKind kind, string expected)
        {
            if (!_element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                throw new ModelFormatException(Source, $"missing required field '{Prefix}{name}'");
            }

            return Check(name, value, kind, expected);
        }

        public int RequiredInt(string name) => ToInt(name, Required(name, JsonValueKind.Number, "an integer"));

        public double RequiredDouble(string name) => Required(name, JsonValueKind.Number, "a number").GetDouble();

        public int? OptionalInt(string name) =>
            Optional(name, JsonValueKind.Number, "an integer") is { } value ? ToInt(name, value) : null;

        public double? OptionalDouble(string name) =>
            Optional(name, JsonValueKind.Number, "a number") is { } value ? value.GetDouble() : null;

        public string? OptionalString(string name) =>
            Optional(name, JsonValueKind.String, "a string") is { } value ? value.GetString() : null;

        public JsonElement? OptionalObject(string name) => Optional(name, JsonValueKind.Object, "an object");

        public bool? OptionalBool(string name)
        {
            if (!_element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(name, value, "a boolean"),
            };
        }

        public IReadOnlyList<int> IntOrIntList(string name)
        {
            if (!_element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            if (value.ValueKind == JsonValueKind.Number)
            {
                return [ToInt(name, value)];
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                throw WrongType(name, value, "an integer or a list of integers");
            }

            return value.EnumerateArray()
                .Select(item => item.ValueKind == JsonValueKind.Number
                    ? ToInt(name, item)
                    : throw WrongType(name, item, "an integer or a list of integers"))
                .ToArray();
        }

        private JsonElement? Optional(string name, JsonValueKind kind, string expected)
        {
            if (!_element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return Check(name, value, kind, expected);
        }

        private JsonElement Check(string name, JsonElement value, JsonValueKind kind, string expected) =>
            value.ValueKind == kind ? value : throw WrongType(name, value, expected);

        private int ToInt(string name, JsonElement value) =>
            value.TryGetInt32(out int result) ? result : throw WrongType(name, value, "an integer");

        private ModelFormatException WrongType(string name, JsonElement value, string expected) =>
            new(Source, $"field '{Prefix}{name}' is {Describe(value)}; expected {expected}");

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{value.GetString()}\"",
            JsonValueKind.Number => $"the number {value.GetRawText()}",
            _ => $"a JSON {JsonKinds.Describe(value.ValueKind)}",
        };
    }
}
