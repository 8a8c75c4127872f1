using CsCheck;
using OrleansQuant.Model.Tests.Checkpoints;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>tokenizer.json and tokenizer_config.json, mutated: loaded and used, or refused naming the file.</summary>
public sealed class TokenizerJsonFuzzTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _tokenizerJson;
    private readonly string _tokenizerConfig;

    public TokenizerJsonFuzzTests()
    {
        TokenizerFiles.WriteBytes(_temp.Path);
        _tokenizerJson = File.ReadAllText(_temp.File(ModelTokenizer.TokenizerJsonFile));
        _tokenizerConfig = File.ReadAllText(_temp.File(ModelTokenizer.TokenizerConfigFile));
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_tokenizer_json_is_loaded_or_refused_by_name() =>
        Gen.Select(Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (kind, seed) => Load(Mutations.Apply(_tokenizerJson, kind, seed), _tokenizerConfig),
            iter: FuzzRules.Cases);

    [Fact]
    public void Mutated_tokenizer_config_is_loaded_or_refused_by_name() =>
        Gen.Select(Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (kind, seed) => Load(_tokenizerJson, Mutations.Apply(_tokenizerConfig, kind, seed)),
            iter: FuzzRules.Cases);

    private void Load(string tokenizerJson, string tokenizerConfig)
    {
        string directory = FuzzRules.CaseFile(_temp.Path, "tokenizer");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ModelTokenizer.TokenizerJsonFile), tokenizerJson);
        File.WriteAllText(Path.Combine(directory, ModelTokenizer.TokenizerConfigFile), tokenizerConfig);
        try
        {
            FuzzRules.ReadsOrRefuses<ModelFormatException>(directory, () =>
            {
                var tokenizer = ModelTokenizer.Load(directory);
                var ids = tokenizer.Encode("Hello, wörld! 123");
                tokenizer.Decode(ids);
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
