using CsCheck;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>config.json, mutated: read (with its quantization_config), or refused naming the file.</summary>
public sealed class ConfigJsonFuzzTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_configs_are_read_or_refused_by_name()
    {
        string plain = DemoModels.TinySharded.Config.ToJson();
        string onDisk = File.ReadAllText(Path.Combine(TestModels.Directory(DemoModels.Tiny), "config.json"));
        Gen.Select(Gen.OneOf(plain, onDisk), Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (text, kind, seed) => Read(Mutations.Apply(text, kind, seed)),
            iter: FuzzRules.Cases);
    }

    [Fact]
    public void Configs_with_a_quantization_config_mutated_are_read_or_refused_by_name()
    {
        string path = _temp.File("config.json");
        File.WriteAllText(path, DemoModels.Tiny.Config.ToJson());
        CompressedTensorsConfig.AddTo(path, CompressedTensorsConfig.W8A8);
        string withQuantization = File.ReadAllText(path);
        Gen.Select(Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (kind, seed) => Read(Mutations.Apply(withQuantization, kind, seed)),
            iter: FuzzRules.Cases);
    }

    // Through the checkpoint's own entry point: config.json and quantization_config are read before any tensor.
    private void Read(string text)
    {
        string directory = FuzzRules.CaseFile(_temp.Path, "model");
        Directory.CreateDirectory(directory);
        string config = Path.Combine(directory, "config.json");
        File.WriteAllText(config, text);
        try
        {
            FuzzRules.ReadsOrRefuses<ModelFormatException>(directory, () => ModelCheckpoint.Open(directory).Dispose());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
