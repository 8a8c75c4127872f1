using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Tests.Checkpoints;

public sealed class ShardedCheckpointTests(QuantizedTinyModel quantized) : IClassFixture<QuantizedTinyModel>, IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_checkpoint_saved_layer_by_layer_loads_back_to_bit_identical_logits()
    {
        quantized.SaveLayerByLayer(_temp.Path);

        using var loaded = CausalLanguageModel.Load(_temp.Path, quantized.Device);
        Assert.Equal("int-quantized", loaded.Quantization?.Format);
        Assert.All(loaded.Layers, layer =>
        {
            Assert.IsType<Int8Linear>(layer.Weights.QueryProjection);
            Assert.IsType<FloatLinear>(layer.Weights.DownProjection);
        });
        float[] logits = loaded.Forward(TestModels.GoldenPrompt, ForwardBatch.Single(1, TestModels.GoldenPrompt.Length), allPositions: true);
        Assert.Equal(quantized.Logits, logits);
    }

    [Fact]
    public void Shards_are_named_as_transformers_names_them_with_the_head_first()
    {
        quantized.SaveLayerByLayer(_temp.Path);

        string[] expected = ["model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors", "model-00003-of-00005.safetensors",
            "model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors"];
        Assert.Equal(expected, Directory.GetFiles(_temp.Path, "*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(_temp.File(CheckpointFiles.SingleFile)));
        Assert.True(File.Exists(_temp.File("recipe.yaml")));
        Assert.True(File.Exists(_temp.File("tokenizer.json")));
        Assert.Empty(Directory.GetFiles(_temp.Path, "*.tmp"));

        using var head = SafeTensorsFile.Open(_temp.File(expected[0]));
        Assert.Equal(["model.embed_tokens.weight", "model.norm.weight"], head.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("pt", head.Metadata["format"]);
        using var layer2 = SafeTensorsFile.Open(_temp.File(expected[3]));
        Assert.All(layer2.Tensors.Keys, name => Assert.StartsWith("model.layers.2.", name, StringComparison.Ordinal));
        Assert.Equal(TensorDType.I8, layer2.GetEntry("model.layers.2.self_attn.q_proj.weight").DType);
        Assert.Equal(TensorDType.F32, layer2.GetEntry("model.layers.2.mlp.down_proj.weight").DType);
    }

    [Fact]
    public void The_index_lists_every_tensor_exactly_once_with_the_total_size()
    {
        quantized.SaveLayerByLayer(_temp.Path);

        var inShards = new Dictionary<string, string>(StringComparer.Ordinal);
        long bytes = 0;
        foreach (string shard in Directory.GetFiles(_temp.Path, "*.safetensors"))
        {
            using var file = SafeTensorsFile.Open(shard);
            foreach (var entry in file.Tensors.Values)
            {
                Assert.True(inShards.TryAdd(entry.Name, Path.GetFileName(shard)), $"{entry.Name} is in two shards");
                bytes += entry.ByteLength;
            }
        }

        using var index = JsonDocument.Parse(File.ReadAllText(_temp.File(CheckpointFiles.IndexFile)));
        // Enumerated rather than deserialized into a dictionary, which would hide a name listed twice.
        var listed = index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => (p.Name, Shard: p.Value.GetString()!)).ToList();
        Assert.Equal(listed.Count, listed.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(inShards.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)), listed);
        Assert.Equal(bytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());

        // 4 layers × (2 norms + 7 linears + 3 biases + 6 weight_scales) + embedding + final norm (tied: no lm_head).
        Assert.Equal(4 * 18 + 2, listed.Count);
    }

    [Fact]
    public void The_single_process_save_writes_the_same_files_as_the_layer_by_layer_save()
    {
        string layerByLayer = Path.Combine(_temp.Path, "layers");
        string whole = Path.Combine(_temp.Path, "whole");
        quantized.SaveLayerByLayer(layerByLayer);
        QuantizedCheckpointWriter.Write(quantized.Model, QuantizedTinyModel.Recipe, quantized.Source, whole);

        string[] files = Directory.GetFiles(layerByLayer).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        foreach (string other in new[] { whole })
        {
            Assert.Equal(files, Directory.GetFiles(other).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal));
            Assert.All(files, file => Assert.Equal(File.ReadAllBytes(Path.Combine(layerByLayer, file)), File.ReadAllBytes(Path.Combine(other, file))));
        }
    }

    [Fact]
    public void A_save_over_an_older_single_file_checkpoint_removes_it_so_the_index_is_what_loads()
    {
        File.Copy(Path.Combine(quantized.Source, CheckpointFiles.SingleFile), _temp.File(CheckpointFiles.SingleFile));
        File.WriteAllBytes(_temp.File("model-00001-of-00009.safetensors"), [1, 2, 3]);

        quantized.SaveLayerByLayer(_temp.Path);

        Assert.False(File.Exists(_temp.File(CheckpointFiles.SingleFile)));
        Assert.False(File.Exists(_temp.File("model-00001-of-00009.safetensors")));
        using var checkpoint = ModelCheckpoint.Open(_temp.Path);
        Assert.NotNull(checkpoint.Quantization);
    }

    [Fact]
    public void The_head_and_index_are_refused_when_a_layer_shard_is_missing()
    {
        var model = quantized.Model;
        int layers = model.Config.NumHiddenLayers;
        var shards = model.Layers.Select(l => QuantizedCheckpointWriter.WriteLayerShard(_temp.Path, l.Index, layers, l.Weights)).ToList();
        File.Delete(_temp.File(shards[2].FileName));

        var error = Assert.Throws<FileNotFoundException>(
            () => QuantizedCheckpointWriter.WriteHeadAndIndex(model.Config, null, quantized.Source, _temp.Path, model.Head, shards));
        Assert.Contains("model-00004-of-00005.safetensors", error.Message);
        Assert.Contains("layer 2", error.Message);
        Assert.False(File.Exists(_temp.File(CheckpointFiles.IndexFile)));
    }

    [Fact]
    public void The_head_and_index_are_refused_for_shards_out_of_layer_order()
    {
        var model = quantized.Model;
        int layers = model.Config.NumHiddenLayers;
        var shards = model.Layers.Select(l => QuantizedCheckpointWriter.WriteLayerShard(_temp.Path, l.Index, layers, l.Weights)).Reverse().ToList();

        var error = Assert.Throws<ArgumentException>(
            () => QuantizedCheckpointWriter.WriteHeadAndIndex(model.Config, null, quantized.Source, _temp.Path, model.Head, shards));
        Assert.Contains("layer shard 0 is 'model-00005-of-00005.safetensors'", error.Message);
    }

    [Fact]
    public void A_layer_loads_from_its_own_shard_without_reading_the_others()
    {
        quantized.SaveLayerByLayer(_temp.Path);
        // Layer 0's shard made unreadable: only a load that maps it can notice.
        File.WriteAllBytes(_temp.File(QuantizedCheckpointWriter.LayerShardName(0, 4)), [1, 2, 3]);

        using var checkpoint = ModelCheckpoint.Open(_temp.Path);
        using (var weights = checkpoint.LoadLayer(3, quantized.Device))
        {
            var expected = quantized.Model.Layers[3].Weights;
            var int8 = Assert.IsType<Int8Linear>(weights.QueryProjection);
            Assert.Equal(((Int8Linear)expected.QueryProjection).Weight.ToArray<sbyte>(), int8.Weight.ToArray<sbyte>());
        }

        var error = Assert.Throws<ModelFormatException>(() => checkpoint.LoadLayer(0, quantized.Device));
        Assert.Contains("model-00002-of-00005.safetensors", error.Message);
    }

    [Fact]
    public void A_layer_outside_the_config_is_refused_naming_num_hidden_layers()
    {
        using var checkpoint = ModelCheckpoint.Open(quantized.Source);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.LoadLayer(4, quantized.Device));
        Assert.Contains("num_hidden_layers is 4", error.Message);
    }

    [Fact]
    public void A_quantization_config_this_runtime_cannot_serve_is_refused_at_open_naming_the_field()
    {
        quantized.SaveLayerByLayer(_temp.Path);
        string configPath = _temp.File("config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        // A W4A16 checkpoint: served with int8 kernels it would be silently wrong.
        config["quantization_config"]!["config_groups"]!["group_0"]!["weights"]!["num_bits"] = 4;
        File.WriteAllText(configPath, config.ToJsonString());

        var error = Assert.Throws<ModelFormatException>(() => ModelCheckpoint.Open(_temp.Path));
        Assert.Contains(configPath, error.Message);
        Assert.Contains("quantization_config.config_groups.group_0.weights.num_bits is 4; expected 8", error.Message);
        Assert.Throws<ModelFormatException>(() => CausalLanguageModel.Load(_temp.Path, quantized.Device));
    }

    [Fact]
    public void An_unquantized_checkpoint_opens_without_a_quantization_config()
    {
        using var checkpoint = ModelCheckpoint.Open(quantized.Source);
        Assert.Null(checkpoint.Quantization);
        Assert.Equal(DemoModels.TinyQwen2.Config.NumHiddenLayers, checkpoint.Config.NumHiddenLayers);
        Assert.Equal(quantized.Source, checkpoint.Directory);
    }

    [Fact]
    public void A_missing_config_json_is_refused_naming_the_file()
    {
        var error = Assert.Throws<ModelFormatException>(() => ModelCheckpoint.Open(_temp.Path));
        Assert.Contains(_temp.File("config.json"), error.Message);
    }
}
