using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Store;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>The model store on its own: a layer written once, read back equal, and refused by name when its bytes change.</summary>
public sealed class ModelStoreTests
{
    [Fact]
    public void A_stored_layer_loads_back_with_the_same_tensors_and_its_checksum_is_the_files_sha256()
    {
        using var temp = new TempDirectory();
        using var device = new CpuDevice();
        using var source = ModelSource.Open(ModelDirectory.Resolve("tiny"), WeightPrecision.Float32);
        using var weights = source.LoadLayer(1, device);
        var store = new ModelStore(temp.Path);

        var shard = store.Write("my model/../x", 1, 3, weights);

        Assert.StartsWith(store.Root + Path.DirectorySeparatorChar, shard.Path);
        Assert.Equal(Path.Combine(store.VersionDirectory("my model/../x", 1, 3), ModelStore.ShardFile), shard.Path);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(shard.Path))), shard.Sha256);
        Assert.Equal(new FileInfo(shard.Path).Length, shard.Bytes);
        using var loaded = store.Load(shard, source.Config, 1, device, WeightPrecision.Float32);
        var expected = LayerTensors.Layer(1, weights).ToDictionary(t => t.Name);
        var actual = LayerTensors.Layer(1, loaded).ToArray();
        Assert.Equal(expected.Count, actual.Length);
        Assert.All(actual, t => Assert.Equal(expected[t.Name].Float32, t.Float32));
    }

    [Fact]
    public void A_shard_whose_bytes_changed_is_refused_naming_it_and_both_checksums()
    {
        using var temp = new TempDirectory();
        using var device = new CpuDevice();
        using var source = ModelSource.Open(ModelDirectory.Resolve("tiny"), WeightPrecision.Float32);
        using var weights = source.LoadLayer(0, device);
        var store = new ModelStore(temp.Path);
        var shard = store.Write("corrupt", 0, 1, weights);

        using (var file = new FileStream(shard.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Seek(-5, SeekOrigin.End);
            int b = file.ReadByte();
            file.Seek(-1, SeekOrigin.Current);
            file.WriteByte((byte)(b ^ 0x40));
        }

        var error = Assert.Throws<ModelFormatException>(() => store.Load(shard, source.Config, 0, device, WeightPrecision.Float32));
        Assert.Contains(shard.Path, error.Message);
        Assert.Contains("checksum mismatch", error.Message);
        Assert.Contains(shard.Sha256, error.Message);
    }

    [Fact]
    public void A_missing_shard_or_one_outside_the_store_is_refused_naming_it()
    {
        using var temp = new TempDirectory();
        var store = new ModelStore(Path.Combine(temp.Path, "store"));
        var missing = new StoredLayerShard(Path.Combine(store.Root, "m", "layer-0000", "v000001", ModelStore.ShardFile), "00", 1);
        Assert.Contains("missing", Assert.Throws<ModelFormatException>(() => store.Verify(missing)).Message);

        string outside = temp.File("elsewhere.safetensors");
        File.WriteAllText(outside, "x");
        var error = Assert.Throws<ModelFormatException>(() => store.Verify(new StoredLayerShard(outside, ModelStore.Checksum(outside), 1)));
        Assert.Contains(outside, error.Message);
        Assert.Contains("outside the model store", error.Message);
    }

    [Fact]
    public void Model_names_become_one_path_segment_that_cannot_climb_out_or_collide()
    {
        Assert.Equal("llama-3.1_8b", ModelStore.DirectoryName("llama-3.1_8b"));
        Assert.StartsWith("~", ModelStore.DirectoryName(".."));
        Assert.StartsWith("~", ModelStore.DirectoryName("a/b"));
        Assert.NotEqual(ModelStore.DirectoryName("a/b"), ModelStore.DirectoryName("a_b"));
    }
}
