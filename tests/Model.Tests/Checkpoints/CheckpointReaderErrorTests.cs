using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Checkpoints;

public sealed class CheckpointReaderErrorTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Index_pointing_to_a_missing_shard()
    {
        WriteShard("model-00001-of-00002.safetensors", "a");
        string index = WriteIndex(("a", "model-00001-of-00002.safetensors"), ("b", "model-00002-of-00002.safetensors"));

        var error = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(_temp.Path));
        Assert.Equal(index, error.Source);
        Assert.Contains("weight_map names shard 'model-00002-of-00002.safetensors' for tensor b, but the file does not exist", error.Message);
    }

    [Fact]
    public void Tensor_listed_in_the_index_but_missing_from_its_shard()
    {
        string shard = WriteShard("model-00001-of-00001.safetensors", "a");
        WriteIndex(("a", "model-00001-of-00001.safetensors"), ("ghost", "model-00001-of-00001.safetensors"));

        using var reader = CheckpointReader.Open(_temp.Path);
        Assert.Equal([1f], reader.ReadFloat32("a"));
        var error = Assert.Throws<ModelFormatException>(() => reader.ReadFloat32("ghost"));
        Assert.Equal(shard, error.Source);
        Assert.Contains("tensor ghost: listed for this shard in model.safetensors.index.json but missing from it", error.Message);
    }

    [Fact]
    public void Shards_are_opened_only_when_one_of_their_tensors_is_read()
    {
        // The second shard is corrupt: a layer that never touches it must still load.
        WriteShard("model-00001-of-00002.safetensors", "layer0");
        string bad = _temp.File("model-00002-of-00002.safetensors");
        File.WriteAllBytes(bad, [1, 2]);
        WriteIndex(("layer0", "model-00001-of-00002.safetensors"), ("layer1", "model-00002-of-00002.safetensors"));

        using var reader = CheckpointReader.Open(_temp.Path);
        Assert.Equal([1f], reader.ReadFloat32("layer0"));
        Assert.Equal(bad, reader.GetShardPath("layer1"));
        var error = Assert.Throws<ModelFormatException>(() => reader.GetEntry("layer1"));
        Assert.Equal(bad, error.Source);
    }

    [Fact]
    public void Shard_path_escaping_the_model_directory()
    {
        string index = WriteIndex(("a", "../elsewhere.safetensors"));
        var error = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(_temp.Path));
        Assert.Equal(index, error.Source);
        Assert.Contains("weight_map names shard '../elsewhere.safetensors' for tensor a; expected a file name inside the model directory", error.Message);
    }

    [Fact]
    public void Index_without_a_weight_map()
    {
        string index = _temp.File(CheckpointFiles.IndexFile);
        File.WriteAllText(index, "{\"metadata\":{\"total_size\":4}}");
        var error = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(_temp.Path));
        Assert.Equal(index, error.Source);
        Assert.Contains("'weight_map' is missing or not an object", error.Message);
    }

    [Fact]
    public void Directory_without_a_checkpoint()
    {
        var error = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(_temp.Path));
        Assert.Equal(_temp.Path, error.Source);
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json found", error.Message);
    }

    [Fact]
    public void Missing_directory()
    {
        string missing = _temp.File("absent");
        var error = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(missing));
        Assert.Contains("directory does not exist", error.Message);
    }

    [Fact]
    public void Unknown_tensor_names_the_layout_file_and_the_tensor()
    {
        string single = WriteShard(CheckpointFiles.SingleFile, "a");
        using var reader = CheckpointReader.Open(_temp.Path);
        var error = Assert.Throws<ModelFormatException>(() => reader.GetBytes("model.layers.0.mlp.up_proj.weight"));
        Assert.Equal(single, error.Source);
        Assert.Contains("tensor model.layers.0.mlp.up_proj.weight: not in the checkpoint", error.Message);
    }

    private string WriteShard(string fileName, string tensor)
    {
        var writer = new SafeTensorsWriter();
        writer.AddFloat32(tensor, [1], [1f]);
        string path = _temp.File(fileName);
        writer.WriteTo(path);
        return path;
    }

    private string WriteIndex(params (string Tensor, string Shard)[] entries)
    {
        string path = _temp.File(CheckpointFiles.IndexFile);
        string map = string.Join(",", entries.Select(e => $"\"{e.Tensor}\":\"{e.Shard}\""));
        File.WriteAllText(path, $"{{\"metadata\":{{\"total_size\":4}},\"weight_map\":{{{map}}}}}");
        return path;
    }
}
