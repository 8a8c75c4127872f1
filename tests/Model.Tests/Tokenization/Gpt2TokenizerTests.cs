using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Tokenization;

public sealed class Gpt2TokenizerTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    private static readonly TiktokenTokenizer Reference = TiktokenTokenizer.CreateForModel("gpt2");

    public static TheoryData<string> Texts => new()
    {
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "In 2024, 3.14159 × 1000 = 3141.59 and 0x1F is 31.",
        "Wait... what?! (yes) — \"quoted\", 'single' & #hash ## ### @user: 50%",
        "naïve café 東京",
        "   leading spaces and trailing   ",
        "line one\nline two\n\n\tindented\r\nwindows",
        "I'm sure you've seen they'll do what we'd said, isn't it?",
        "emoji 🦙🚀 and combining e\u0301",
        "<|endoftext|>after the end",
    };

    [Fact]
    public void Hello_world_is_the_known_GPT2_encoding()
    {
        Assert.Equal([15496, 995], fixture.Tokenizer.Encode("Hello world"));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Encodes_exactly_like_tiktoken_gpt2(string text)
    {
        Assert.Equal(Reference.EncodeToIds(text), fixture.Tokenizer.Encode(text));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Decode_of_encode_round_trips(string text)
    {
        var ids = fixture.Tokenizer.Encode(text);
        Assert.Equal(text, fixture.Tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Special_tokens_are_skipped_when_decoding_by_default()
    {
        var ids = fixture.Tokenizer.Encode("end<|endoftext|>");
        Assert.Equal(Gpt2Vocabulary.EndOfTextId, ids[^1]);
        Assert.Equal("end", fixture.Tokenizer.Decode(ids));
    }

    [Fact]
    public void Config_gives_endoftext_as_bos_and_eos_without_adding_bos()
    {
        var tokenizer = fixture.Tokenizer;
        Assert.Equal(50256, tokenizer.BosId);
        Assert.Equal(50256, tokenizer.EosId);
        Assert.False(tokenizer.AddBos);
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.Equal([50256, 15496, 995], tokenizer.Encode("Hello world", addBos: true));
    }

    [Fact]
    public void Decoding_token_by_token_concatenates_to_the_text()
    {
        const string text = "Streaming: naïve café";
        var ids = fixture.Tokenizer.Encode(text);
        var decoder = System.Text.Encoding.UTF8.GetDecoder();
        var streamed = new System.Text.StringBuilder();
        foreach (int id in ids)
        {
            var bytes = fixture.Tokenizer.TokenBytes(id).Span;
            var chars = new char[decoder.GetCharCount(bytes, flush: false)];
            decoder.GetChars(bytes, chars, flush: false);
            streamed.Append(chars);
        }

        Assert.Equal(text, streamed.ToString());
        Assert.Equal(" world", fixture.Tokenizer.DecodeToken(995));
    }

    [Fact]
    public void Written_files_have_the_Hugging_Face_layout()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.Directory, "tokenizer.json")));
        var root = json.RootElement;
        var model = root.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.Equal(50257, model.GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal(50000, model.GetProperty("merges").GetArrayLength());
        Assert.Equal("Ġ t", model.GetProperty("merges")[0].GetString());
        Assert.Equal(995, model.GetProperty("vocab").GetProperty("Ġworld").GetInt32());
        Assert.Equal("ByteLevel", root.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        Assert.False(root.GetProperty("pre_tokenizer").GetProperty("add_prefix_space").GetBoolean());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());
        var added = Assert.Single(root.GetProperty("added_tokens").EnumerateArray());
        Assert.Equal(50256, added.GetProperty("id").GetInt32());
        Assert.True(added.GetProperty("special").GetBoolean());

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.Directory, "tokenizer_config.json")));
        Assert.False(config.RootElement.GetProperty("add_bos_token").GetBoolean());
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("eos_token").GetString());
        Assert.Equal(1024, config.RootElement.GetProperty("model_max_length").GetInt32());
    }

    [Fact]
    public void Writing_twice_gives_the_same_bytes()
    {
        using var other = new TempDirectory();
        TokenizerFiles.WriteGpt2(other.Path);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            Assert.Equal(
                SHA256.HashData(File.ReadAllBytes(Path.Combine(fixture.Directory, name))),
                SHA256.HashData(File.ReadAllBytes(other.File(name))));
        }
    }
}
