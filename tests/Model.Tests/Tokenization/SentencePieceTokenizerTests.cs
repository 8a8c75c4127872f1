using OrleansQuant.Model.Tokenization;
using static OrleansQuant.Model.Tests.Tokenization.TestSentencePieceModel;

namespace OrleansQuant.Model.Tests.Tokenization;

public sealed class SentencePieceTokenizerTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public SentencePieceTokenizerTests()
    {
        File.WriteAllBytes(_directory.File("tokenizer.model"), Build());
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Merges_by_score_into_whole_words_after_bos()
    {
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal([Bos, Id("▁hello"), Id("▁world")], tokenizer.Encode("hello world"));
    }

    [Fact]
    public void Defaults_to_bos_like_Llama()
    {
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(Bos, tokenizer.BosId);
        Assert.Equal(Eos, tokenizer.EosId);
        Assert.Equal(FirstByte + 256 + NormalPieces.Length, tokenizer.VocabSize);
        Assert.Null(tokenizer.ChatTemplate);
    }

    [Fact]
    public void Unknown_characters_fall_back_to_bytes()
    {
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal([Bos, Id("▁hello"), FirstByte + '!'], tokenizer.Encode("hello!"));
        Assert.Equal([Bos, Id("▁"), Id("h"), FirstByte + 0xC3, FirstByte + 0xA9], tokenizer.Encode("hé"));
    }

    [Fact]
    public void Tokenizer_config_can_turn_bos_off_and_name_the_chat_template()
    {
        File.WriteAllText(_directory.File("tokenizer_config.json"),
            """{"add_bos_token": false, "bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>", "chat_template": "{{ messages }}"}""");
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.False(tokenizer.AddBos);
        Assert.Equal(Bos, tokenizer.BosId);
        Assert.Equal("{{ messages }}", tokenizer.ChatTemplate);
        Assert.Equal([Id("▁hello"), Id("▁world")], tokenizer.Encode("hello world"));
        Assert.Equal([Bos, Id("▁hello")], tokenizer.Encode("hello", addBos: true));
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("hello!")]
    [InlineData("hé wo  rld")]
    [InlineData("東京")]
    public void Round_trips(string text)
    {
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Streams_pieces_with_their_spaces()
    {
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal(" world", tokenizer.DecodeToken(Id("▁world")));
        Assert.Equal("!", tokenizer.DecodeToken(FirstByte + '!'));
    }
}
