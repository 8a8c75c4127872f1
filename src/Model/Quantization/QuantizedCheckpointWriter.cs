using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Saves a quantized model as llm-compressor does for W8A8: a compressed-tensors checkpoint (int8 <c>weight</c> and
/// <c>weight_scale</c> <c>[out, 1]</c> per quantized linear, everything else full precision), config.json with its
/// <c>quantization_config</c>, the recipe as recipe.yaml, and the source model's tokenizer files — what vLLM loads.
/// </summary>
public static class QuantizedCheckpointWriter
{
    private static readonly string[] s_tokenizerFiles =
        ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <param name="sourceDirectory">the original checkpoint, whose tokenizer files are copied.</param>
    public static void Write(CausalLanguageModel model, QuantizationRecipe recipe, string sourceDirectory, string directory, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        var writer = new CheckpointWriter();
        var head = model.Head;

        // Full-precision tensors are saved as float32, the precision they are served in here, so a reload is exact.
        AddFloat(writer, "model.embed_tokens.weight", head.Embedding);
        foreach (var layer in model.Layers)
        {
            string prefix = DecoderLayerWeights.Prefix(layer.Index);
            var weights = layer.Weights;
            AddFloat(writer, $"{prefix}.input_layernorm.weight", weights.InputNorm, vector: true);
            AddFloat(writer, $"{prefix}.post_attention_layernorm.weight", weights.PostAttentionNorm, vector: true);
            foreach (var slot in LinearSlot.All)
            {
                AddLinear(writer, slot.ModuleName(layer.Index), slot.Get(weights));
            }
        }

        AddFloat(writer, "model.norm.weight", head.FinalNorm, vector: true);
        if (!model.Config.TieWordEmbeddings)
        {
            AddFloat(writer, "lm_head.weight", head.LmHead);
        }

        writer.WriteTo(directory, maxShardBytes);
        string configPath = Path.Combine(directory, "config.json");
        File.WriteAllText(configPath, (model.Config with { TorchDtype = "float32" }).ToJson());
        CompressedTensorsConfig.AddTo(configPath, CompressedTensorsConfig.FromRecipe(recipe, model.Config.NumHiddenLayers));
        File.WriteAllText(Path.Combine(directory, "recipe.yaml"), RecipeWriter.ToYaml(recipe));
        foreach (string file in s_tokenizerFiles)
        {
            string source = Path.Combine(sourceDirectory, file);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(directory, file), overwrite: true);
            }
        }
    }

    private static void AddLinear(CheckpointWriter writer, string module, Linear linear)
    {
        switch (linear)
        {
            case Int8Linear int8:
                writer.AddInt8($"{module}.weight", [int8.Weight.Rows, int8.Weight.Columns], Download<sbyte>(int8.Weight));
                writer.AddFloat32($"{module}.weight_scale", [int8.WeightScales.Columns, 1], Download<float>(int8.WeightScales));
                if (int8.Bias is not null)
                {
                    AddFloat(writer, $"{module}.bias", int8.Bias, vector: true);
                }

                break;
            case FloatLinear fp:
                AddFloat(writer, $"{module}.weight", fp.Weight);
                if (fp.Bias is not null)
                {
                    AddFloat(writer, $"{module}.bias", fp.Bias, vector: true);
                }

                break;
            default:
                throw new NotSupportedException($"{module}: cannot save a {linear.GetType().Name}");
        }
    }

    private static void AddFloat(CheckpointWriter writer, string name, DeviceTensor tensor, bool vector = false) =>
        writer.AddFloat32(name, vector ? [tensor.Columns] : [tensor.Rows, tensor.Columns], Download<float>(tensor));

    private static T[] Download<T>(DeviceTensor tensor) where T : unmanaged
    {
        var values = new T[tensor.Length];
        tensor.Device.Download<T>(tensor, values);
        return values;
    }
}
