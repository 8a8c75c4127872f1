using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Tokenization;

public sealed class BytesTokenizerTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ModelTokenizer _tokenizer;

    public BytesTokenizerTests()
    {
        TokenizerFiles.WriteBytes(_directory.Path);
        _tokenizer = ModelTokenizer.Load(_directory.Path);
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Every_utf8_byte_is_one_token_after_bos()
    {
        Assert.Equal([0, 2 + 0x68, 2 + 0xC3, 2 + 0xA9], _tokenizer.Encode("hé"));
    }

    [Fact]
    public void Has_258_ids_with_bos_0_and_eos_1()
    {
        Assert.Equal(258, _tokenizer.VocabSize);
        Assert.Equal(0, _tokenizer.BosId);
        Assert.Equal(1, _tokenizer.EosId);
        Assert.True(_tokenizer.AddBos);
    }

    [Theory]
    [InlineData("hé")]
    [InlineData("")]
    [InlineData("  two  spaces\nand 東京 🦙")]
    public void Round_trips(string text)
    {
        Assert.Equal(text, _tokenizer.Decode(_tokenizer.Encode(text)));
    }

    [Fact]
    public void Bos_is_added_once_even_when_the_text_starts_with_it()
    {
        Assert.Equal([0, 2 + (byte)'a'], _tokenizer.Encode("<s>a"));
        Assert.Equal([2 + (byte)'a'], _tokenizer.Encode("a", addBos: false));
    }

    [Fact]
    public void A_partial_utf8_token_decodes_to_the_replacement_character()
    {
        Assert.Equal("\uFFFD", _tokenizer.DecodeToken(2 + 0xC3));
        Assert.Equal("</s>", _tokenizer.DecodeToken(1));
    }
}
