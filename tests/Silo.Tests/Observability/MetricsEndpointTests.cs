using System.Net;
using OrleansQuant.Silo.Tests.Http;

namespace OrleansQuant.Silo.Tests.Observability;

/// <summary>
/// /metrics after real generations: the metrics-only host (<c>serve --metrics</c>) exports the engine's instruments with
/// the values the generations made; the HTTP API host exports them too, without asking for its API key.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class MetricsEndpointTests(ObservabilityFixture fixture)
{
    private static readonly (string, string) Observed = ("orleansquant_model", ObservabilityFixture.ModelName);

    [Fact]
    public async Task Generated_tokens_count_every_token_the_generations_streamed()
    {
        var metrics = await fixture.Scrape(fixture.MetricsUri);
        Assert.Equal(fixture.GeneratedTokens, metrics.Single("orleansquant_generation_tokens_total", Observed));
    }

    [Fact]
    public async Task Latency_and_batch_histograms_hold_every_token_and_step()
    {
        var metrics = await fixture.Scrape(fixture.MetricsUri);

        // Three sequences: three first tokens, and every later token is one inter-token gap.
        Assert.Equal(3, metrics.Single("orleansquant_generation_time_to_first_token_seconds_count", Observed));
        Assert.Equal(fixture.GeneratedTokens - 3, metrics.Single("orleansquant_generation_inter_token_latency_seconds_count", Observed));
        Assert.True(metrics.Single("orleansquant_generation_time_to_first_token_seconds_sum", Observed) > 0);

        // Each step samples one token per sequence in it: the batch sizes add up to the tokens.
        double steps = metrics.Single("orleansquant_generation_batch_size_count", Observed);
        Assert.InRange(steps, 1, fixture.GeneratedTokens);
        Assert.Equal(fixture.GeneratedTokens, metrics.Single("orleansquant_generation_batch_size_sum", Observed));

        // Nothing waits once every generation has ended.
        Assert.Equal(0, metrics.Single("orleansquant_generation_waiting_sequences", Observed));
    }

    [Fact]
    public async Task Every_layer_of_the_model_reports_its_step_time()
    {
        var metrics = await fixture.Scrape(fixture.MetricsUri);
        Assert.True(fixture.LayerCount > 1);
        double steps = metrics.Single("orleansquant_generation_batch_size_count", Observed);
        for (int layer = 0; layer < fixture.LayerCount; layer++)
        {
            // One forward pass per serving step, each timed.
            var index = ("orleansquant_layer", layer.ToString());
            Assert.Equal(steps, metrics.Single("orleansquant_layer_step_time_seconds_count", Observed, index));
            Assert.True(metrics.Single("orleansquant_layer_step_time_seconds_sum", Observed, index) > 0);
        }

        Assert.Empty(metrics.Find("orleansquant_layer_step_time_seconds_count", Observed, ("orleansquant_layer", fixture.LayerCount.ToString())));
    }

    [Fact]
    public async Task Device_memory_in_use_is_reported_per_device()
    {
        var metrics = await fixture.Scrape(fixture.MetricsUri);
        var devices = metrics.Find("orleansquant_device_memory_used_bytes", ("orleansquant_device", "cpu:0")).ToArray();
        Assert.NotEmpty(devices);
        Assert.All(devices, d => Assert.True(d.Value > 0, $"device memory {d.Value}"));
    }

    [Fact]
    public async Task Orleans_and_runtime_meters_are_exported_beside_the_engine()
    {
        var metrics = await fixture.Scrape(fixture.MetricsUri);
        Assert.Contains(metrics.Samples, s => s.Name.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(metrics.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
    }
}

/// <summary><c>serve --http</c> serves /metrics beside the API, and its API key does not guard it.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class HttpMetricsTests(HttpApiFixture fixture)
{
    [Fact]
    public async Task Metrics_answer_without_the_api_key_and_count_the_api_generations()
    {
        var (ids, _) = await fixture.Engine([1, 2, 3], maxTokens: 5);

        using var anonymous = new HttpClient { BaseAddress = fixture.BaseUri };
        using var response = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var metrics = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        // Other tests of the collection generate with "default" too: at least this test's tokens.
        Assert.True(metrics.Single("orleansquant_generation_tokens_total", ("orleansquant_model", "default")) >= ids.Count);

        // /v1 still asks for the key.
        using var refused = await anonymous.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
