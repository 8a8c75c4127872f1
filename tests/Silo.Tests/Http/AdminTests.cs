using System.Net;
using System.Text;
using System.Text.Json;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// The admin API (/admin/v1) with an admin key: who may call it, jobs streamed as server-sent events or polled,
/// re-quantizing one layer while the model serves, refusals in OpenAI's error shape.
/// </summary>
[Collection(AdminCollection.Name)]
public sealed class AdminTests(AdminFixture fixture)
{
    private static readonly int[] s_prompt = [0, 86, 106, 103];

    private static string HalfStrength => RecipeWriter.ToYaml(QuantizationRecipe.Default with
    {
        SmoothQuant = QuantizationRecipe.Default.SmoothQuant! with { SmoothingStrength = 0.5 },
    });

    [Fact]
    public async Task AnApiKeyIsForbiddenOnAdminRoutesAndNoKeyOrAWrongOneIsUnauthorized()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseUri };
        using var wrong = new HttpClient { BaseAddress = fixture.BaseUri };
        wrong.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-key");

        var (apiKey, forbidden, _) = await fixture.Send(HttpMethod.Get, "admin/v1/models/default/status", client: fixture.Http);
        var (none, missing, _) = await fixture.Send(HttpMethod.Post, "admin/v1/models/default/quantize", new { }, anonymous);
        var (bad, incorrect, _) = await fixture.Send(HttpMethod.Delete, "admin/v1/jobs/quantize-1", client: wrong);

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (apiKey, none, bad));
        Assert.Equal("insufficient_permissions", forbidden.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("--admin-key", forbidden.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", forbidden.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("no admin key given", missing.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("invalid_api_key", incorrect.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task TheAdminKeyAlsoOpensV1AsVllmsOneKeyDoes()
    {
        var (status, body) = await fixture.Post("v1/completions", new { prompt = s_prompt, max_tokens = 6, temperature = 0 }, fixture.Admin);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((await fixture.Engine(s_prompt, 6)).Text, body.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task ReQuantizingLayerZeroStreamsItsJobAndTheNewVersionServes()
    {
        int[] before = await fixture.Versions();

        var answer = await fixture.Sse("admin/v1/models/default/layers/0/requantize", new { recipe = HalfStrength });

        Assert.Equal((HttpStatusCode.OK, "text/event-stream", true), (answer.Status, answer.ContentType, answer.Done));
        var quantize = answer.Progress.Where(e => e.GetProperty("stage").GetString() == "quantize").ToArray();
        Assert.Equal([0.0, 1.0], quantize.Select(e => e.GetProperty("fraction").GetDouble()));
        Assert.All(quantize, e => Assert.Equal(0, e.GetProperty("layer").GetInt32()));
        Assert.True(quantize[^1].GetProperty("error_after").GetDouble() > 0);
        Assert.Equal("done", answer.Progress.Last().GetProperty("stage").GetString());
        Assert.Equal(("job", "requantize", "succeeded"),
            (answer.Job.GetProperty("object").GetString(), answer.Job.GetProperty("kind").GetString(), answer.Job.GetProperty("state").GetString()));

        int[] after = await fixture.Versions();
        Assert.Equal([before[0] + 1, .. before[1..]], after);
        var (_, status, _) = await fixture.Send(HttpMethod.Get, "admin/v1/models/default/status");
        Assert.Contains("smoothing_strength: 0.5", status.GetProperty("layers")[0].GetProperty("recipe").GetString());

        var (generated, body) = await fixture.Post("v1/completions", new { prompt = s_prompt, max_tokens = 6, temperature = 0 });
        Assert.Equal(HttpStatusCode.OK, generated);
        Assert.Equal((await fixture.Engine(s_prompt, 6)).Text, body.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("application/json", "dampening_frac")]
    [InlineData("application/yaml", "dampening_frac")]
    [InlineData("application/json", "smoothing_strenght")]
    public async Task ABadRecipeIsA400NamingItAndTheOldWeightsKeepServing(string contentType, string wrong)
    {
        string yaml = wrong == "dampening_frac" ? "GPTQModifier:\n  dampening_frac: -1\n" : "SmoothQuantModifier:\n  smoothing_strenght: 0.5\nGPTQModifier: {}\n";
        var before = await fixture.Engine(s_prompt, 12);
        int[] versions = await fixture.Versions();
        int jobs = (await fixture.Sdk.StatusAsync("default")).Jobs.Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/v1/models/default/layers/0/requantize")
        {
            Content = new StringContent(contentType == "application/json" ? JsonSerializer.Serialize(new { recipe = yaml }) : yaml, Encoding.UTF8, contentType),
        };
        using var response = await fixture.Admin.SendAsync(request);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("recipe", error.GetProperty("param").GetString());
        Assert.Contains(wrong, error.GetProperty("message").GetString());
        Assert.Equal(versions, await fixture.Versions());
        Assert.Equal(jobs, (await fixture.Sdk.StatusAsync("default")).Jobs.Count);
        Assert.Equal(before.Ids, (await fixture.Engine(s_prompt, 12)).Ids);
    }

    [Fact]
    public async Task QuantizingStreamsProgressWithRisingFractionsAndEndsSucceeded()
    {
        int[] before = await fixture.Versions();

        var answer = await fixture.Sse("admin/v1/models/default/quantize", new { calibration = "self", samples = 6, max_tokens = 24 });

        Assert.Equal((HttpStatusCode.OK, "text/event-stream", true), (answer.Status, answer.ContentType, answer.Done));
        var progress = answer.Progress.ToArray();
        var sequences = progress.Select(e => e.GetProperty("sequence").GetInt32()).ToArray();
        Assert.Equal(Enumerable.Range(0, sequences.Length), sequences);
        foreach (var stage in progress.GroupBy(e => e.GetProperty("stage").GetString()).Where(g => g.Key != "done"))
        {
            var fractions = stage.Select(e => e.GetProperty("fraction").GetDouble()).ToArray();
            Assert.True(fractions.Zip(fractions.Skip(1)).All(p => p.First <= p.Second), $"{stage.Key}: {string.Join(", ", fractions)}");
            Assert.Equal(1.0, fractions[^1]);
        }

        var quantized = progress.Where(e => e.GetProperty("stage").GetString() == "quantize" && e.TryGetProperty("layer", out var l) && l.ValueKind == JsonValueKind.Number);
        Assert.Equal(before.Length, quantized.Count());
        Assert.Contains(progress, e => e.GetProperty("stage").GetString() == "sample");
        Assert.Equal(("quantize", "succeeded", 1.0),
            (answer.Job.GetProperty("kind").GetString(), answer.Job.GetProperty("state").GetString(), answer.Job.GetProperty("fraction").GetDouble()));
        Assert.Equal(before.Select(v => v + 1), await fixture.Versions());
    }

    [Fact]
    public async Task AJobStartedWithoutStreamingIsPolledRefusesASecondWeightsJobAndIsCancelled()
    {
        int[] versions = await fixture.Versions();

        var (started, job, response) = await fixture.Send(HttpMethod.Post, "admin/v1/models/default/quantize?stream=false",
            new { calibration = "self", samples = 64, max_tokens = 256 });
        string id = job.GetProperty("id").GetString()!;
        var (busy, conflict, _) = await fixture.Send(HttpMethod.Post, "admin/v1/models/default/layers/1/requantize", new { recipe = HalfStrength });
        var (cancelled, _, _) = await fixture.Send(HttpMethod.Delete, $"admin/v1/jobs/{id}?model=default");

        Assert.Equal(HttpStatusCode.Accepted, started);
        Assert.Equal($"/admin/v1/jobs/{id}?model=default", response.Headers.Location?.OriginalString);
        Assert.Equal(("quantize", "running", "default"), (job.GetProperty("kind").GetString(), job.GetProperty("state").GetString(), job.GetProperty("model").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, busy);
        Assert.Equal("job_running", conflict.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(id, conflict.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, cancelled);

        // A layer stops at its next linear, a self-calibration draw at its next wave: poll until it has.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonElement polled;
        while ((polled = (await fixture.Send(HttpMethod.Get, response.Headers.Location!.OriginalString.TrimStart('/'))).Body)
            .GetProperty("state").GetString() == "running" && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(100);
        }

        Assert.Equal("cancelled", polled.GetProperty("state").GetString());
        Assert.Equal(versions, await fixture.Versions());

        // Re-attaching to the ended job replays its log, ending with "cancelled", the job, and [DONE].
        using var events = await fixture.Admin.GetAsync($"admin/v1/jobs/{id}/events?model=default&from=0");
        string text = await events.Content.ReadAsStringAsync();
        Assert.Contains("\"stage\":\"cancelled\"", text);
        Assert.EndsWith("data: [DONE]\n\n", text);
    }

    [Fact]
    public async Task SavingStreamsItsJobAndWritesTheCheckpoint()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"oq-admin-save-{Guid.NewGuid():N}");
        try
        {
            var answer = await fixture.Sse("admin/v1/models/default/save", new { directory });

            Assert.Equal(("save", "succeeded", true), (answer.Job.GetProperty("kind").GetString(), answer.Job.GetProperty("state").GetString(), answer.Done));
            Assert.True(File.Exists(Path.Combine(directory, "config.json")), $"no config.json in {directory}");
            Assert.NotEmpty(Directory.GetFiles(directory, "*.safetensors"));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("GET", "admin/v1/jobs/quantize-999", null, 404, "id")]
    [InlineData("DELETE", "admin/v1/jobs/quantize-999?model=default", null, 404, "id")]
    [InlineData("GET", "admin/v1/models/nope/status", null, 404, "model")]
    [InlineData("GET", "admin/v1/jobs/quantize-1?model=nope", null, 404, "model")]
    [InlineData("POST", "admin/v1/models/unloaded/quantize", "{}", 503, "model")]
    [InlineData("POST", "admin/v1/models/default/layers/9/requantize", """{"recipe": "GPTQModifier: {}"}""", 400, "layer")]
    [InlineData("POST", "admin/v1/models/default/layers/-1/requantize", """{"recipe": "GPTQModifier: {}"}""", 400, "layer")]
    [InlineData("POST", "admin/v1/models/default/layers/0/requantize", "{}", 400, "recipe")]
    [InlineData("POST", "admin/v1/models/default/quantize", """{"samples": 0}""", 400, "samples")]
    [InlineData("POST", "admin/v1/models/default/quantize", """{"max_tokens": -3}""", 400, "max_tokens")]
    [InlineData("POST", "admin/v1/models/default/quantize", """{"samples": "many"}""", 400, "samples")]
    [InlineData("POST", "admin/v1/models/default/quantize?stream=maybe", "{}", 400, "stream")]
    [InlineData("POST", "admin/v1/models/default/save", """{"directory": ""}""", 400, "directory")]
    [InlineData("POST", "admin/v1/models/default/load", "{}", 400, "checkpoint")]
    public async Task RefusalsAreOpenAiErrorsNamingTheField(string method, string path, string? body, int expected, string param)
    {
        int[] versions = await fixture.Versions();

        var (status, error, _) = await fixture.Send(new HttpMethod(method), path, body);

        Assert.Equal((HttpStatusCode)expected, status);
        Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetProperty("message").GetString()));
        Assert.Equal(versions, await fixture.Versions());
    }
}

/// <summary>Without an admin key the admin routes are not mapped: 404, whatever key is sent.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class AdminOffTests(HttpApiFixture fixture)
{
    [Theory]
    [InlineData("GET", "admin/v1/models/default/status")]
    [InlineData("POST", "admin/v1/models/default/quantize")]
    [InlineData("POST", "admin/v1/models/default/layers/0/requantize")]
    [InlineData("DELETE", "admin/v1/jobs/quantize-1")]
    public async Task WithoutAnAdminKeyTheAdminRoutesAre404(string method, string path)
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseUri };
        foreach (var client in new[] { fixture.Http, anonymous })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }
}
