using System.Text.Json;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Checkpoints;

public sealed class CheckpointRoundTripTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Small_checkpoint_is_one_model_safetensors_with_pt_format_metadata()
    {
        CheckpointWriter writer = TinyModel();
        IReadOnlyList<string> written = writer.WriteTo(_temp.Path);

        Assert.Equal([CheckpointFiles.SingleFile], written);
        Assert.False(File.Exists(_temp.File(CheckpointFiles.IndexFile)));
        using (var file = SafeTensorsFile.Open(_temp.File(CheckpointFiles.SingleFile)))
        {
            // transformers refuses safetensors files whose metadata has no "format".
            Assert.Equal("pt", file.Metadata["format"]);
        }

        using var reader = CheckpointReader.Open(_temp.Path);
        Assert.False(reader.IsSharded);
        AssertTinyModel(reader);
    }

    [Fact]
    public void Sharded_checkpoint_writes_an_index_like_transformers_and_reads_back()
    {
        // Under a 300-byte limit: layer 0 (256 B) | layer 1 + norm (288 B) | lm_head (32 B) | embed (1024 B, over the limit, alone).
        CheckpointWriter writer = TinyModel();
        IReadOnlyList<string> written = writer.WriteTo(
            _temp.Path, maxShardBytes: 300, new Dictionary<string, string> { ["quantized_by"] = "OrleansQuant" });

        string[] shards = written.Where(f => f != CheckpointFiles.IndexFile).ToArray();
        Assert.Equal(
            ["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"],
            shards);
        Assert.Equal(CheckpointFiles.IndexFile, written[^1]);
        Assert.False(File.Exists(_temp.File(CheckpointFiles.SingleFile)));

        using (JsonDocument index = JsonDocument.Parse(File.ReadAllText(_temp.File(CheckpointFiles.IndexFile))))
        {
            Assert.Equal(TinyModelBytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToList();
            Assert.Equal(11, weightMap.Count);
            Assert.Equal(weightMap.Select(p => p.Name).Order(StringComparer.Ordinal), weightMap.Select(p => p.Name));
            string ShardOf(string tensor) => weightMap.Single(p => p.Name == tensor).Value.GetString()!;
            Assert.Equal(shards[0], ShardOf("model.layers.0.mlp.down_proj.weight_g_idx"));
            Assert.Equal(shards[1], ShardOf("model.layers.1.self_attn.q_proj.weight"));
            Assert.Equal(shards[1], ShardOf("model.norm.weight"));
            Assert.Equal(shards[2], ShardOf("lm_head.weight"));
            Assert.Equal(shards[3], ShardOf("model.embed_tokens.weight"));
        }

        foreach (string shard in shards)
        {
            using var file = SafeTensorsFile.Open(_temp.File(shard));
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal("OrleansQuant", file.Metadata["quantized_by"]);
            Assert.True(file.Tensors.Values.Sum(t => t.ByteLength) <= 300 || file.Tensors.Count == 1);
        }

        using var reader = CheckpointReader.Open(_temp.Path);
        Assert.True(reader.IsSharded);
        Assert.Equal(shards, reader.ShardFiles.Order(StringComparer.Ordinal));
        AssertTinyModel(reader);
    }

    [Fact]
    public void Rewriting_a_directory_removes_the_previous_layout()
    {
        TinyModel().WriteTo(_temp.Path);
        TinyModel().WriteTo(_temp.Path, maxShardBytes: 1000);
        Assert.False(File.Exists(_temp.File(CheckpointFiles.SingleFile)));

        TinyModel().WriteTo(_temp.Path);
        Assert.Equal([CheckpointFiles.SingleFile], Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    // Per layer: BF16 8x8 + I8 8x8 + I32 8 + I64 4; then F32 norm 8, F16 lm_head 2x8, F32 embed 4x64.
    private const long TinyModelBytes = (2 * (128 + 64 + 32 + 32)) + 32 + 32 + 1024;

    private static CheckpointWriter TinyModel()
    {
        var writer = new CheckpointWriter();
        for (int layer = 0; layer < 2; layer++)
        {
            string prefix = $"model.layers.{layer}.";
            writer.AddFloat32(prefix + "self_attn.q_proj.weight", [8, 8], Ramp(64, layer), TensorDType.BF16);
            writer.AddInt8(prefix + "mlp.down_proj.weight", [8, 8], Enumerable.Range(-32, 64).Select(i => (sbyte)(i + layer)).ToArray());
            writer.AddInt32(prefix + "mlp.down_proj.weight_scale", [8], Enumerable.Range(layer, 8).ToArray());
            writer.AddInt64(prefix + "mlp.down_proj.weight_g_idx", [4], [layer, 1, 2, 3]);
        }

        writer.AddFloat32("model.norm.weight", [8], Ramp(8, 9), TensorDType.F32);
        writer.AddFloat32("lm_head.weight", [2, 8], Ramp(16, 7), TensorDType.F16);
        writer.AddFloat32("model.embed_tokens.weight", [4, 64], Ramp(256, 5));
        return writer;
    }

    private static void AssertTinyModel(CheckpointReader reader)
    {
        Assert.Equal(11, reader.TensorNames.Count);
        Assert.True(reader.Contains("model.layers.1.mlp.down_proj.weight"));
        Assert.False(reader.Contains("model.layers.2.mlp.down_proj.weight"));

        for (int layer = 0; layer < 2; layer++)
        {
            string prefix = $"model.layers.{layer}.";
            Assert.Equal(
                Ramp(64, layer).Select(v => FloatConversion.FromBFloat16Bits(FloatConversion.ToBFloat16Bits(v))),
                reader.ReadFloat32(prefix + "self_attn.q_proj.weight"));
            Assert.Equal(Enumerable.Range(-32, 64).Select(i => (sbyte)(i + layer)), reader.ReadInt8(prefix + "mlp.down_proj.weight"));
            Assert.Equal(Enumerable.Range(layer, 8), reader.ReadInt32(prefix + "mlp.down_proj.weight_scale"));
            Assert.Equal([layer, 1L, 2L, 3L], reader.ReadInt64(prefix + "mlp.down_proj.weight_g_idx"));
        }

        Assert.Equal(Ramp(8, 9), reader.ReadFloat32("model.norm.weight"));
        Assert.Equal(Ramp(16, 7).Select(v => (float)(Half)v), reader.ReadFloat32("lm_head.weight"));
        var embed = new float[256];
        reader.ReadFloat32("model.embed_tokens.weight", embed);
        Assert.Equal(Ramp(256, 5), embed);
        Assert.Equal(256 * 4, reader.GetBytes("model.embed_tokens.weight").Length);

        TensorEntry entry = reader.GetEntry("lm_head.weight");
        Assert.Equal(TensorDType.F16, entry.DType);
        Assert.Equal([2L, 8L], entry.Shape);
    }

    private static float[] Ramp(int count, int seed) =>
        Enumerable.Range(0, count).Select(i => ((i * 37) + (seed * 11)) % 101 * 0.0173f - 0.8f).ToArray();
}
