using System.Text.Json.Nodes;
using OrleansQuant.Model.Tokenization;
using static OrleansQuant.Model.Tests.Tokenization.TokenizerJsonBuilder;

namespace OrleansQuant.Model.Tests.Tokenization;

public sealed class TokenizerErrorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Directory_without_tokenizer_files_names_the_directory_and_the_files_expected()
    {
        File.WriteAllText(_directory.File("tokenizer_config.json"), "{}");
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains(_directory.Path, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("tokenizer.model", e.Message);
    }

    [Fact]
    public void Missing_directory_is_named()
    {
        string missing = _directory.File("nope");
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void WordPiece_is_rejected_naming_model_type_and_BPE()
    {
        var json = Llama3Like();
        json["model"]!["type"] = "WordPiece";
        Write(_directory.Path, json);
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("model.type", e.Message);
        Assert.Contains("WordPiece", e.Message);
        Assert.Contains("BPE", e.Message);
    }

    [Fact]
    public void Missing_vocab_is_named()
    {
        var json = Llama3Like();
        json["model"]!.AsObject().Remove("vocab");
        Write(_directory.Path, json);
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("model.vocab", e.Message);
    }

    [Fact]
    public void Malformed_merge_is_named_with_its_index()
    {
        var json = Llama3Like();
        json["model"]!["merges"] = new JsonArray("h e", "nospace");
        Write(_directory.Path, json);
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("model.merges[1]", e.Message);
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        File.WriteAllText(_directory.File("tokenizer.json"), "{ \"model\": ");
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Bos_token_outside_the_vocabulary_names_the_config_field()
    {
        Write(_directory.Path, Llama3Like(), """{"bos_token": "<s>"}""");
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("bos_token", e.Message);
    }

    [Fact]
    public void Non_boolean_add_bos_token_is_named()
    {
        Write(_directory.Path, Llama3Like(), """{"add_bos_token": "yes"}""");
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("add_bos_token", e.Message);
    }

    [Fact]
    public void SentencePiece_style_tokenizer_json_without_tokenizer_model_is_explained()
    {
        var json = Llama3Like();
        json["model"]!["byte_fallback"] = true;
        Write(_directory.Path, json);
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer.model", e.Message);
    }

    [Fact]
    public void SentencePiece_style_tokenizer_json_defers_to_tokenizer_model()
    {
        var json = Llama3Like();
        json["model"]!["byte_fallback"] = true;
        Write(_directory.Path, json);
        File.WriteAllBytes(_directory.File("tokenizer.model"), TestSentencePieceModel.Build());
        var tokenizer = ModelTokenizer.Load(_directory.Path);
        Assert.Equal([TestSentencePieceModel.Bos, TestSentencePieceModel.Id("▁hello")], tokenizer.Encode("hello"));
    }

    [Fact]
    public void Corrupt_tokenizer_model_names_the_file()
    {
        File.WriteAllBytes(_directory.File("tokenizer.model"), [0xFF, 0xFF, 0xFF]);
        var e = Assert.Throws<ModelFormatException>(() => ModelTokenizer.Load(_directory.Path));
        Assert.Contains("tokenizer.model", e.Message);
    }
}
