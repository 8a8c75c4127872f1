using System.Globalization;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Saves a model as llm-compressor does for W8A8: a compressed-tensors checkpoint (int8 <c>weight</c> and
/// <c>weight_scale</c> <c>[out, 1]</c> per quantized linear, everything else full precision), config.json with its
/// <c>quantization_config</c>, the recipe as recipe.yaml, and the source model's tokenizer files — what vLLM loads.
/// <para>
/// Always sharded one shard per decoder layer plus one for the head (Hugging Face names:
/// <c>model-00001-of-{L+1}</c> is the head, layer i is shard i + 2), so in a cluster each layer writes its own shard
/// where its weights live and no layer's tensors travel in a message; only <see cref="ShardInfo"/> does. The
/// single-process save takes the same path, so both produce the same files.
/// </para>
/// </summary>
public static class QuantizedCheckpointWriter
{

    private static readonly string[] s_tokenizerFiles =
        ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <summary>The file layer <paramref name="layer"/> of a <paramref name="layerCount"/>-layer model is saved in.</summary>
    public static string LayerShardName(int layer, int layerCount) => CheckpointFiles.ShardName(layer + 2, layerCount + 1);

    /// <summary>The file the embedding, final norm and lm_head are saved in.</summary>
    public static string HeadShardName(int layerCount) => CheckpointFiles.ShardName(1, layerCount + 1);

    /// <summary>Saves a whole single-process model: each layer's shard, then the head, index and side files.</summary>
    /// <param name="sourceDirectory">the original checkpoint, whose tokenizer files are copied.</param>
    public static void Write(CausalLanguageModel model, QuantizationRecipe? recipe, string sourceDirectory, string directory)
    {
        int layerCount = model.Config.NumHiddenLayers;
        var shards = model.Layers.Select(layer => WriteLayerShard(directory, layer.Index, layerCount, layer.Weights)).ToList();
        WriteHeadAndIndex(model.Config, recipe, sourceDirectory, directory, model.Head, shards);
    }

    /// <summary>
    /// Writes one decoder layer's tensors as its own safetensors shard in <paramref name="directory"/> (created if
    /// needed), atomically: a reader never maps a half-written shard, and a failed write leaves any previous one.
    /// Run where the layer's weights are; hand the returned <see cref="ShardInfo"/> to <see cref="WriteHeadAndIndex"/>.
    /// </summary>
    public static ShardInfo WriteLayerShard(string directory, int layer, int layerCount, DecoderLayerWeights weights)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        if ((uint)layer >= (uint)layerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"expected a layer in [0, {layerCount})");
        }

        return WriteShard(directory, LayerShardName(layer, layerCount), LayerTensors.Layer(layer, weights));
    }

    /// <summary>
    /// Finishes a checkpoint whose layer shards are already in <paramref name="directory"/>: writes the head's shard,
    /// config.json (with quantization_config when there is a recipe), recipe.yaml, the tokenizer files, removes
    /// checkpoint files a previous save left, and writes model.safetensors.index.json last — its presence says the
    /// checkpoint is complete.
    /// </summary>
    /// <param name="layerShards">what <see cref="WriteLayerShard"/> returned, one per layer, in layer order.</param>
    public static void WriteHeadAndIndex(ModelConfig config, QuantizationRecipe? recipe, string sourceDirectory, string directory,
        OutputHead head, IReadOnlyList<ShardInfo> layerShards)
    {
        CheckLayerShards(config, directory, layerShards);
        var headShard = WriteShard(directory, HeadShardName(config.NumHiddenLayers), LayerTensors.Head(head));
        Finish(config, recipe, sourceDirectory, directory, [headShard, .. layerShards]);
    }

    private static ShardInfo WriteShard(string directory, string fileName, IEnumerable<ExportedTensor> tensors)
    {
        Directory.CreateDirectory(directory);
        var writer = new SafeTensorsWriter();
        // transformers refuses safetensors files whose metadata lacks "format".
        writer.Metadata["format"] = "pt";
        var names = new List<string>();
        long bytes = 0;
        foreach (var tensor in tensors)
        {
            tensor.AddTo(writer);
            names.Add(tensor.Name);
            bytes += tensor.ByteLength;
        }

        writer.WriteTo(Path.Combine(directory, fileName));
        return new ShardInfo(fileName, names.ToArray(), bytes);
    }

    // A shard list that does not match the config would yield an index that loads the wrong layer or none.
    private static void CheckLayerShards(ModelConfig config, string directory, IReadOnlyList<ShardInfo> layerShards)
    {
        ArgumentNullException.ThrowIfNull(layerShards);
        if (layerShards.Count != config.NumHiddenLayers)
        {
            throw new ArgumentException(
                $"{layerShards.Count} layer shards for a model whose num_hidden_layers is {config.NumHiddenLayers}; expected one per layer", nameof(layerShards));
        }

        for (int i = 0; i < layerShards.Count; i++)
        {
            string expected = LayerShardName(i, config.NumHiddenLayers);
            if (layerShards[i].FileName != expected)
            {
                throw new ArgumentException($"layer shard {i} is '{layerShards[i].FileName}'; expected '{expected}' (shards in layer order)", nameof(layerShards));
            }

            // A layer on another silo that wrote to storage this process cannot see would leave the index pointing at nothing.
            string path = Path.Combine(directory, expected);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"{path}: layer {i}'s shard is not there; every layer must write to a directory the head's writer also sees", path);
            }
        }
    }

    private static void Finish(ModelConfig config, QuantizationRecipe? recipe, string sourceDirectory, string directory, IReadOnlyList<ShardInfo> shards)
    {
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            foreach (string name in shard.TensorNames)
            {
                if (!weightMap.TryAdd(name, shard.FileName))
                {
                    throw new InvalidOperationException(
                        $"{Path.Combine(directory, shard.FileName)}: tensor {name} is also in {weightMap[name]}; a tensor belongs to exactly one shard");
                }
            }
        }

        // Full-precision tensors are saved as float32, the precision they are served in here, so a reload is exact.
        string configPath = Path.Combine(directory, "config.json");
        File.WriteAllText(configPath, (config with { TorchDtype = "float32" }).ToJson());
        var sideFiles = new List<string> { "config.json" };
        if (recipe is not null)
        {
            CompressedTensorsConfig.AddTo(configPath, CompressedTensorsConfig.FromRecipe(recipe, config.NumHiddenLayers));
            File.WriteAllText(Path.Combine(directory, "recipe.yaml"), RecipeWriter.ToYaml(recipe));
            sideFiles.Add("recipe.yaml");
        }

        foreach (string file in s_tokenizerFiles)
        {
            string source = Path.Combine(sourceDirectory, file);
            if (File.Exists(source) && !string.Equals(Path.GetFullPath(sourceDirectory), Path.GetFullPath(directory), StringComparison.Ordinal))
            {
                File.Copy(source, Path.Combine(directory, file), overwrite: true);
                sideFiles.Add(file);
            }
        }

        // Before the index: a stale model.safetensors would win over it, and an index must not list a shard about to go.
        string[] keep = [.. shards.Select(s => s.FileName), CheckpointFiles.IndexFile];
        CheckpointFiles.DeleteStale(directory, keep);
        CheckpointIndex.Write(Path.Combine(directory, CheckpointFiles.IndexFile), shards.Sum(s => s.TotalBytes), weightMap, sideFiles);
    }
}
