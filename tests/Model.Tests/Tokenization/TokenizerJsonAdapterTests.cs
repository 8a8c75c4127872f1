using System.Text.Json.Nodes;
using OrleansQuant.Model.Tokenization;
using static OrleansQuant.Model.Tests.Tokenization.TokenizerJsonBuilder;

namespace OrleansQuant.Model.Tests.Tokenization;

public sealed class TokenizerJsonAdapterTests : IDisposable
{
    private const string Llama3Config =
        """{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"}""";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Llama3_template_post_processor_prepends_begin_of_text()
    {
        Write(_directory.Path, Llama3Like(), Llama3Config);
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(BeginOfText, tokenizer.BosId);
        Assert.Equal(EotId, tokenizer.EosId);
        Assert.Equal(EotId + 1, tokenizer.VocabSize);
        Assert.StartsWith("{{ bos_token }}", tokenizer.ChatTemplate);
        Assert.Equal([BeginOfText, Hello, SpaceWorld], tokenizer.Encode("hello world"));
    }

    [Fact]
    public void Bos_from_template_is_added_once_when_the_text_already_has_it()
    {
        Write(_directory.Path, Llama3Like(), Llama3Config);
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal([BeginOfText, Hello, EotId], tokenizer.Encode("<|begin_of_text|>hello<|eot_id|>"));
        Assert.Equal("hello", tokenizer.Decode(tokenizer.Encode("<|begin_of_text|>hello<|eot_id|>")));
        Assert.Equal("<|begin_of_text|>hello<|eot_id|>", tokenizer.Decode(tokenizer.Encode("hello<|eot_id|>"), skipSpecialTokens: false));
    }

    [Fact]
    public void Without_ignore_merges_a_word_without_a_merge_path_stays_split()
    {
        Write(_directory.Path, Llama3Like(ignoreMerges: false), Llama3Config);
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal([Hello, SpaceW, 'o', 'r', 'l', 'd'], tokenizer.Encode("hello world", addBos: false));
    }

    [Fact]
    public void Tokenizer_config_add_bos_token_false_overrides_the_template()
    {
        Write(_directory.Path, Llama3Like(), """{"add_bos_token": false, "bos_token": "<|begin_of_text|>"}""");
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.False(tokenizer.AddBos);
        Assert.Equal([Hello], tokenizer.Encode("hello"));
    }

    [Fact]
    public void Qwen2_style_nfc_normalizer_and_null_bos()
    {
        var json = Llama3Like();
        json["normalizer"] = new JsonObject { ["type"] = "NFC" };
        json["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        Write(_directory.Path, json, """{"bos_token": null, "eos_token": "<|end_of_text|>", "add_prefix_space": false}""");
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Null(tokenizer.BosId);
        Assert.False(tokenizer.AddBos);
        Assert.Equal(EndOfText, tokenizer.EosId);

        // e + U+0301 COMBINING ACUTE is composed to é (C3 A9) before the bytes are taken, where the runtime
        // has ICU; under InvariantGlobalization .NET cannot compose and the text passes through unchanged.
        Assert.Equal([0xC3, 0xA9], tokenizer.Encode("\u00E9"));
        int[] expected = NfcNormalizer.IsAvailable ? [0xC3, 0xA9] : ['e', 0xCC, 0x81];
        Assert.Equal(expected, tokenizer.Encode("e\u0301"));
        Assert.Throws<InvalidOperationException>(() => tokenizer.Encode("x", addBos: true));
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("Don't   split\r\n\r\n12345 ü 🦙")]
    public void Round_trips(string text)
    {
        Write(_directory.Path, Llama3Like(), Llama3Config);
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }
}
