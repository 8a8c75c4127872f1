using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>Bad requests get OpenAI's error shape naming the field at fault, and the server keeps serving.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class HttpErrorTests(HttpApiFixture fixture)
{
    [Theory]
    [InlineData("""{"prompt": "hi", "max_tokens": 4, "temperature": -0.5}""", "temperature")]
    [InlineData("""{"prompt": "hi", "max_tokens": 4, "temperature": "hot"}""", "temperature")]
    [InlineData("""{"prompt": "hi", "max_tokens": 4, "top_p": 0}""", "top_p")]
    [InlineData("""{"prompt": "hi", "max_tokens": 4, "top_p": 1.5}""", "top_p")]
    [InlineData("""{"prompt": "hi", "max_tokens": 0}""", "max_tokens")]
    [InlineData("""{"prompt": "hi", "max_tokens": 2.5}""", "max_tokens")]
    [InlineData("""{"prompt": "hi", "n": 0}""", "n")]
    [InlineData("""{"prompt": "hi", "n": 17}""", "n")]
    [InlineData("""{"prompt": "hi", "echo": true, "stream": true}""", "stream")]
    [InlineData("""{"prompt": "hi", "logprobs": 21}""", "logprobs")]
    [InlineData("""{"prompt": "hi", "stop": ["a", "b", "c", "d", "e"]}""", "stop")]
    [InlineData("""{"prompt": "hi", "stop": 7}""", "stop")]
    [InlineData("""{"prompt": {"text": "hi"}}""", "prompt")]
    [InlineData("""{"prompt": [[1, 2], [3, -4]]}""", "prompt[1]")]
    [InlineData("""{"max_tokens": 4}""", "prompt")]
    [InlineData("""{"prompt": [1, 2, 99999999]}""", "prompt")]
    [InlineData("""{"prompt": "hi", "max_tokens": 4""", "body")]
    public async Task ABadCompletionRequestIsA400NamingTheField(string body, string param)
    {
        var (status, error) = await fixture.Post("v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "wizard", "content": "hi"}]}""", "messages[0].role")]
    [InlineData("""{"messages": []}""", "messages")]
    [InlineData("""{"messages": [{"role": "user", "content": 5}]}""", "messages[0].content")]
    [InlineData("""{"messages": [{"role": 5, "content": "hi"}]}""", "messages[0].role")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 0}""", "max_completion_tokens")]
    public async Task ABadChatRequestIsA400NamingTheField(string body, string param)
    {
        var (status, error) = await fixture.Post("v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task APromptLongerThanTheContextIsA400SayingBothNumbers()
    {
        var (status, error) = await fixture.Post("v1/completions", new { prompt = Enumerable.Repeat(65, 2000).ToArray(), max_tokens = 100 });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        string message = error.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("2048", message);
        Assert.Contains("2100", message);
        Assert.Equal("prompt", error.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task ABodyOverTheLimitIsA413()
    {
        string prompt = new('x', (int)HttpApiFixture.MaxBodyBytes + 10);

        var (status, error) = await fixture.Post("v1/completions", new { prompt, max_tokens = 1 });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains($"{HttpApiFixture.MaxBodyBytes}", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task AMissingOrWrongKeyIsA401()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseUri };
        var (missing, error) = await fixture.Post("v1/completions", new { prompt = "hi" }, anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Equal("invalid_api_key", error.GetProperty("error").GetProperty("code").GetString());

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var models = await anonymous.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Fact]
    public async Task AnUnknownModelIsA404AndAServedOneNotLoadedYetA503()
    {
        var (unknown, error) = await fixture.Post("v1/completions", new { model = "gpt-4", prompt = "hi" });
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("model", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("model_not_found", error.GetProperty("error").GetProperty("code").GetString());

        var (unloaded, notReady) = await fixture.Post("v1/completions", new { model = HttpApiFixture.Unloaded, prompt = "hi" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unloaded);
        Assert.Contains("not loaded", notReady.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ModelsListsTheLoadedModelsOnly()
    {
        using var response = await fixture.Http.GetAsync("v1/models");
        var list = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("list", list.GetProperty("object").GetString());
        var model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("default", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("orleansquant", model.GetProperty("owned_by").GetString());
        Assert.Equal(2048, model.GetProperty("max_model_len").GetInt32());
    }

    [Fact]
    public async Task TheServerStillAnswersAfterBadInput()
    {
        using var garbage = await fixture.Http.PostAsync("v1/chat/completions", new StringContent("\u0000not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);

        var (status, _) = await fixture.Post("v1/completions", new { prompt = "hi", max_tokens = 2, temperature = 0 });
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
