// Source: compressed-tensors QuantizationConfig / QuantizationArgs defaults; vLLM CompressedTensorsW8A8Int8 requirements.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// config.json's quantization_config → <see cref="CompressedTensorsConfig"/>, accepting only what the W8A8 int8
/// kernels compute: one config group of int8 symmetric per-channel static weights and int8 symmetric per-token
/// dynamic input activations. Fields compressed-tensors lets writers omit take its defaults.
/// </summary>
internal static class CompressedTensorsConfigReader
{
    private const string Root = "quantization_config";

    public static CompressedTensorsConfig? Read(JsonObject configJson, string source)
    {
        ArgumentNullException.ThrowIfNull(configJson);
        if (!configJson.TryGetPropertyValue(Root, out JsonNode? node) || node is null)
        {
            return null;
        }

        JsonObject block = AsObject(node, Root, source, "an object");
        RequireString(block, "quant_method", Root, source, "compressed-tensors");
        RequireString(block, "format", Root, source, "int-quantized");
        RequireString(block, "quantization_status", Root, source, "compressed");
        RequireAbsentOrNull(block, "kv_cache_scheme", Root, source, "null (a quantized KV cache is not served)");
        RequireAbsentOrEmpty(block, "sparsity_config", source, "sparse checkpoints are not served");
        RequireAbsentOrEmpty(block, "transform_config", source, "transformed (rotated) checkpoints are not served");

        JsonObject groups = AsObject(Get(block, "config_groups", Root, source, "an object with one config group"), $"{Root}.config_groups", source, "an object with one config group");
        if (groups.Count != 1)
        {
            throw new ModelFormatException(
                source, $"{Root}.config_groups has {groups.Count} groups; expected exactly one (int8 W8A8 for the linear layers)");
        }

        (string groupName, JsonNode? groupNode) = groups.First();
        string groupPath = $"{Root}.config_groups.{groupName}";
        JsonObject group = AsObject(groupNode, groupPath, source, "an object");
        if (group.ContainsKey("format"))
        {
            RequireString(group, "format", groupPath, source, "int-quantized");
        }

        IReadOnlyList<string> targets = Strings(Get(group, "targets", groupPath, source, "a list of target names"), $"{groupPath}.targets", source);
        if (targets.Count == 0)
        {
            throw new ModelFormatException(source, $"{groupPath}.targets is empty; expected at least one target such as 'Linear'");
        }

        RequireAbsentOrNull(group, "output_activations", groupPath, source, "null (output activations are not quantized)");
        var weights = ReadArgs(group, "weights", groupPath, source, strategy: "channel", dynamic: false);
        var activations = ReadArgs(group, "input_activations", groupPath, source, strategy: "token", dynamic: true);

        return new CompressedTensorsConfig
        {
            Format = "int-quantized",
            QuantMethod = "compressed-tensors",
            QuantizationStatus = "compressed",
            Targets = targets,
            Ignore = block["ignore"] is { } ignore ? Strings(ignore, $"{Root}.ignore", source) : [],
            Weights = weights,
            InputActivations = activations,
            GlobalCompressionRatio = OptionalNumber(block, "global_compression_ratio", source),
            Version = block["version"] is { } version ? StringOf(version, $"{Root}.version", source) : null,
        };
    }

    private static CompressedTensorsQuantizationArgs ReadArgs(
        JsonObject group, string name, string groupPath, string source, string strategy, bool dynamic)
    {
        string path = $"{groupPath}.{name}";
        string expectation = $"int 8-bit symmetric per-{strategy} {(dynamic ? "dynamic" : "static")} quantization";
        JsonObject args = AsObject(Get(group, name, groupPath, source, expectation), path, source, expectation);

        // Defaults are compressed-tensors' QuantizationArgs defaults; strategy has none that fits (it becomes
        // "tensor"), so it must be written.
        int bits = Int(args, "num_bits", path, source) ?? 8;
        if (bits != 8)
        {
            throw new ModelFormatException(source, $"{path}.num_bits is {bits}; expected 8");
        }

        string type = args["type"] is { } t ? StringOf(t, $"{path}.type", source) : "int";
        if (type != "int")
        {
            throw new ModelFormatException(source, $"{path}.type is '{type}'; expected 'int'");
        }

        bool symmetric = Bool(args, "symmetric", path, source) ?? true;
        if (!symmetric)
        {
            throw new ModelFormatException(source, $"{path}.symmetric is false; expected true (zero points are not supported)");
        }

        RequireString(args, "strategy", path, source, strategy);
        bool? isDynamic = Bool(args, "dynamic", path, source);
        if ((isDynamic ?? false) != dynamic)
        {
            throw new ModelFormatException(
                source, $"{path}.dynamic is {(isDynamic is null ? "missing" : isDynamic.Value ? "true" : "false")}; expected {(dynamic ? "true" : "false")}");
        }

        string? observer = args["observer"] is { } o ? StringOf(o, $"{path}.observer", source) : null;
        return new CompressedTensorsQuantizationArgs(bits, type, symmetric, strategy, dynamic, observer);
    }

    private static JsonNode Get(JsonObject obj, string key, string path, string source, string expected) =>
        obj.TryGetPropertyValue(key, out JsonNode? value) && value is not null
            ? value
            : throw new ModelFormatException(source, $"{path}.{key} is {(obj.ContainsKey(key) ? "null" : "missing")}; expected {expected}");

    private static void RequireString(JsonObject obj, string key, string path, string source, string expected)
    {
        string field = $"{path}.{key}";
        JsonNode value = Get(obj, key, path, source, $"'{expected}'");
        if (value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() != expected)
        {
            throw new ModelFormatException(source, $"{field} is {Describe(value)}; expected '{expected}'");
        }
    }

    private static void RequireAbsentOrNull(JsonObject obj, string key, string path, string source, string expected)
    {
        if (obj[key] is { } value)
        {
            throw new ModelFormatException(source, $"{path}.{key} is {Describe(value)}; expected {expected}");
        }
    }

    private static void RequireAbsentOrEmpty(JsonObject obj, string key, string source, string why)
    {
        if (obj[key] is { } value && !(value is JsonObject { Count: 0 }))
        {
            throw new ModelFormatException(source, $"{Root}.{key} is {Describe(value)}; expected null or {{}} ({why})");
        }
    }

    private static JsonObject AsObject(JsonNode? node, string path, string source, string expected) =>
        node as JsonObject ?? throw new ModelFormatException(source, $"{path} is {Describe(node)}; expected {expected}");

    private static List<string> Strings(JsonNode node, string path, string source)
    {
        if (node is not JsonArray array)
        {
            throw new ModelFormatException(source, $"{path} is {Describe(node)}; expected a list of strings");
        }

        return array.Select((item, i) => StringOf(item, $"{path}[{i}]", source)).ToList();
    }

    private static string StringOf(JsonNode? node, string path, string source) =>
        node is not null && node.GetValueKind() == JsonValueKind.String
            ? node.GetValue<string>()
            : throw new ModelFormatException(source, $"{path} is {Describe(node)}; expected a string");

    private static int? Int(JsonObject obj, string key, string path, string source)
    {
        if (obj[key] is not { } value)
        {
            return null;
        }

        if (value.GetValueKind() != JsonValueKind.Number
            || !int.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number))
        {
            throw new ModelFormatException(source, $"{path}.{key} is {Describe(value)}; expected an integer");
        }

        return number;
    }

    private static bool? Bool(JsonObject obj, string key, string path, string source)
    {
        if (obj[key] is not { } value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelFormatException(source, $"{path}.{key} is {Describe(value)}; expected true or false"),
        };
    }

    private static double? OptionalNumber(JsonObject obj, string key, string source)
    {
        if (obj[key] is not { } value)
        {
            return null;
        }

        if (value.GetValueKind() != JsonValueKind.Number
            || !double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            throw new ModelFormatException(source, $"{Root}.{key} is {Describe(value)}; expected a number or null");
        }

        return number;
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ when node.GetValueKind() == JsonValueKind.String => $"'{node.GetValue<string>()}'",
        _ => node.ToJsonString(),
    };
}
