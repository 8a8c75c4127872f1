using System.Text;
using CsCheck;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Tests.Checkpoints;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>Calibration files (JSONL and plain text), mutated and random: loaded, or refused naming the file.</summary>
public sealed class CalibrationFuzzTests : IDisposable
{
    private const string ValidJsonl = """
        {"text": "The quick brown fox jumps over the lazy dog."}
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
        {"text": "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich."}
        """;

    private const string ValidText = "First paragraph of a corpus.\n\nSecond paragraph, with ünïcödé.\n\nThird.";

    private readonly TempDirectory _temp = new();
    private readonly ModelTokenizer _tokenizer;

    public CalibrationFuzzTests()
    {
        TokenizerFiles.WriteBytes(_temp.Path);
        _tokenizer = ModelTokenizer.Load(_temp.Path);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_calibration_files_are_loaded_or_refused_by_name() =>
        Gen.Select(Gen.Bool, Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (jsonl, kind, seed) => Load(jsonl ? ".jsonl" : ".txt", Mutations.Apply(Encoding.UTF8.GetBytes(jsonl ? ValidJsonl : ValidText), kind, seed)),
            iter: FuzzRules.Cases);

    [Fact]
    public void Random_bytes_as_calibration_files_are_loaded_or_refused_by_name() =>
        Gen.Select(Gen.Bool, Gen.Byte.Array[0, 512]).Sample(
            (jsonl, bytes) => Load(jsonl ? ".jsonl" : ".txt", bytes),
            iter: FuzzRules.Cases);

    private void Load(string extension, byte[] bytes)
    {
        string path = FuzzRules.CaseFile(_temp.Path, "calibration" + extension);
        File.WriteAllBytes(path, bytes);
        try
        {
            FuzzRules.ReadsOrRefuses<ModelFormatException>(path, () =>
            {
                var samples = CalibrationData.Load(path, _tokenizer, new CalibrationOptions(Samples: 4, MaxTokens: 32));
                Assert.All(samples, s => Assert.InRange(s.Length, 1, 32));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }
}
