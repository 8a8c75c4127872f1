using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// A load test on loopback, bounded in count and time: 500 greedy completions at concurrency 32 against the tiny model.
/// Asserted: none is lost (every one answers 200 with its tokens), and equal prompts get equal text however they were
/// batched. Printed, not asserted: latency percentiles and tokens/s (docs/BENCHMARKS.md records a run).
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class LoadTests(HttpApiFixture fixture, ITestOutputHelper output)
{
    private const int Requests = 500, Concurrency = 32, MaxTokens = 8, DistinctPrompts = 25;

    [Fact]
    public async Task FiveHundredCompletionsAtConcurrency32AllComeBackAndAgree()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var turns = new SemaphoreSlim(Concurrency);
        var latencies = new double[Requests];
        var texts = new string?[Requests];
        var tokens = new int[Requests];
        var clock = Stopwatch.StartNew();
        var runs = Enumerable.Range(0, Requests).Select(async i =>
        {
            await turns.WaitAsync(deadline.Token);
            try
            {
                var started = Stopwatch.GetTimestamp();
                var (status, body) = await fixture.Post("v1/completions",
                    new { model = "default", prompt = $"Request {i % DistinctPrompts} says", max_tokens = MaxTokens, temperature = 0 });
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                Assert.True(status == HttpStatusCode.OK, $"request {i}: {status} {body}");
                texts[i] = body.GetProperty("choices")[0].GetProperty("text").GetString();
                tokens[i] = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
            }
            finally
            {
                turns.Release();
            }
        });
        await Task.WhenAll(runs).WaitAsync(deadline.Token);
        double seconds = clock.Elapsed.TotalSeconds;

        Assert.All(tokens, count => Assert.InRange(count, 1, MaxTokens));
        Assert.All(texts, text => Assert.NotNull(text));
        for (int i = DistinctPrompts; i < Requests; i++)
        {
            Assert.Equal(texts[i % DistinctPrompts], texts[i]);
        }

        Array.Sort(latencies);
        double Percentile(double p) => latencies[(int)Math.Min(Requests - 1, Math.Ceiling(p * Requests) - 1)] * 1e3;
        string line = $"LOAD {Requests} completions, concurrency {Concurrency}, {MaxTokens} tokens max: {seconds:F2} s, "
            + $"{Requests / seconds:F1} requests/s, {tokens.Sum() / seconds:F0} output tokens/s; latency ms p50 {Percentile(0.50):F0}, "
            + $"p90 {Percentile(0.90):F0}, p99 {Percentile(0.99):F0}, max {latencies[^1] * 1e3:F0}; lost 0";
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
