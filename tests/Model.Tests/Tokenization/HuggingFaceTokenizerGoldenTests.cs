using System.Text.Json;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Tokenization;

/// <summary>
/// The tokenizer files the project writes, loaded by Hugging Face transformers' AutoTokenizer on the GPU machine
/// (tests/golden/hf_tokenizer_ids.py): ModelTokenizer must give the same ids, BOS included, and decode them back alike.
/// </summary>
public sealed class HuggingFaceTokenizerGoldenTests : IClassFixture<Gpt2TokenizerFixture>
{
    private readonly Gpt2TokenizerFixture _gpt2;

    public HuggingFaceTokenizerGoldenTests(Gpt2TokenizerFixture gpt2) => _gpt2 = gpt2;

    [Fact]
    public void Gpt2IdsEqualHuggingFace() => AssertSameAsHuggingFace(_gpt2.Tokenizer, "hf-tokenizer-gpt2.json");

    [Fact]
    public void ByteVocabularyIdsEqualHuggingFace()
    {
        using var directory = new TempDirectory();
        TokenizerFiles.WriteBytes(directory.Path);
        AssertSameAsHuggingFace(ModelTokenizer.Load(directory.Path), "hf-tokenizer-bytes.json");
    }

    private static void AssertSameAsHuggingFace(ModelTokenizer tokenizer, string golden)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestModels.Golden(golden)));
        var texts = json.RootElement.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var ids = json.RootElement.GetProperty("ids").EnumerateArray().Select(a => a.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray();
        var decoded = json.RootElement.GetProperty("decoded").EnumerateArray().Select(t => t.GetString()!).ToArray();
        Assert.Equal(8, texts.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(ids[i], tokenizer.Encode(texts[i]));
            Assert.Equal(decoded[i], tokenizer.Decode(ids[i]));
        }
    }
}
