using System.Net;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>vLLM's tokenizer endpoints, which lm-evaluation-harness asks first, against the model's own tokenizer.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class TokenizerEndpointTests(HttpApiFixture fixture)
{
    [Fact]
    public async Task TokenizeGivesTheModelTokenizersIdsAndDetokenizeGivesTheTextBack()
    {
        const string text = "Hello, world! 42";

        var (status, tokenized) = await fixture.Post("tokenize", new { model = "default", prompt = text, add_special_tokens = true });

        Assert.Equal(HttpStatusCode.OK, status);
        int[] ids = tokenized.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(fixture.Tokenizer.Encode(text).ToArray(), ids);
        Assert.Equal(ids.Length, tokenized.GetProperty("count").GetInt32());
        Assert.Equal(2048, tokenized.GetProperty("max_model_len").GetInt32());

        var (_, withoutSpecial) = await fixture.Post("tokenize", new { prompt = text, add_special_tokens = false });
        Assert.Equal(fixture.Tokenizer.Encode(text, addBos: false).ToArray(), withoutSpecial.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray());

        var (detokenizeStatus, detokenized) = await fixture.Post("detokenize", new { model = "default", tokens = ids });
        Assert.Equal(HttpStatusCode.OK, detokenizeStatus);
        Assert.Equal(text, detokenized.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task TokenizerInfoNamesTheSpecialTokensAndTheContextLength()
    {
        using var response = await fixture.Http.GetAsync("tokenizer_info");
        var info = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(fixture.Tokenizer.DecodeToken(fixture.Tokenizer.EosId!.Value), info.GetProperty("eos_token").GetString());
        Assert.Equal(fixture.Tokenizer.BosId is int bos ? fixture.Tokenizer.DecodeToken(bos) : null, info.GetProperty("bos_token").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, info.GetProperty("chat_template").ValueKind);
        Assert.Equal(2048, info.GetProperty("model_max_length").GetInt32());
    }

    [Fact]
    public async Task DetokenizingAnIdOutsideTheVocabularyIsA400NamingTokens()
    {
        var (status, body) = await fixture.Post("detokenize", new { tokens = new[] { 1, 1_000_000 } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("tokens", body.GetProperty("error").GetProperty("param").GetString());
    }
}
