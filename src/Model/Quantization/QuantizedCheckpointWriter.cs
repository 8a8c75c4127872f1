using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Saves a model as llm-compressor does for W8A8: a compressed-tensors checkpoint (int8 <c>weight</c> and
/// <c>weight_scale</c> <c>[out, 1]</c> per quantized linear, everything else full precision), config.json with its
/// <c>quantization_config</c>, the recipe as recipe.yaml, and the source model's tokenizer files — what vLLM loads.
/// </summary>
public static class QuantizedCheckpointWriter
{
    private static readonly string[] s_tokenizerFiles =
        ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <param name="sourceDirectory">the original checkpoint, whose tokenizer files are copied.</param>
    public static void Write(CausalLanguageModel model, QuantizationRecipe? recipe, string sourceDirectory, string directory, long maxShardBytes = 5L << 30) =>
        Write(model.Config, recipe, sourceDirectory, directory,
            LayerTensors.Head(model.Head).Concat(model.Layers.SelectMany(l => LayerTensors.Layer(l.Index, l.Weights))), maxShardBytes);

    /// <summary>Writes the given tensors with the config, quantization_config (when there is a recipe), recipe and tokenizer.</summary>
    public static void Write(ModelConfig config, QuantizationRecipe? recipe, string sourceDirectory, string directory,
        IEnumerable<ExportedTensor> tensors, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        var writer = new CheckpointWriter();
        foreach (var tensor in tensors)
        {
            tensor.AddTo(writer);
        }

        writer.WriteTo(directory, maxShardBytes);

        // Full-precision tensors are saved as float32, the precision they are served in here, so a reload is exact.
        string configPath = Path.Combine(directory, "config.json");
        File.WriteAllText(configPath, (config with { TorchDtype = "float32" }).ToJson());
        if (recipe is not null)
        {
            CompressedTensorsConfig.AddTo(configPath, CompressedTensorsConfig.FromRecipe(recipe, config.NumHiddenLayers));
            File.WriteAllText(Path.Combine(directory, "recipe.yaml"), RecipeWriter.ToYaml(recipe));
        }

        foreach (string file in s_tokenizerFiles)
        {
            string source = Path.Combine(sourceDirectory, file);
            if (File.Exists(source) && !string.Equals(Path.GetFullPath(sourceDirectory), Path.GetFullPath(directory), StringComparison.Ordinal))
            {
                File.Copy(source, Path.Combine(directory, file), overwrite: true);
            }
        }
    }
}
