using System.Diagnostics;
using OrleansQuant.Client;
using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Tests;

/// <summary>What the cluster tests do over and over: run a job to its end, collect a greedy generation.</summary>
internal static class ClusterCalls
{
    /// <summary>Every event of a quantization job, heartbeats included, with the test's clock at arrival.</summary>
    public static async Task<List<(JobEvent Event, TimeSpan At)>> Quantize(OrleansQuantClient sdk, string model, QuantizeRequest request)
    {
        var clock = Stopwatch.StartNew();
        var events = new List<(JobEvent, TimeSpan)>();
        await foreach (var e in sdk.QuantizeAsync(model, request))
        {
            events.Add((e, clock.Elapsed));
        }

        return events;
    }

    public static Task<List<int>> Collect(IModelGrain model, int[] prompt, int maxTokens) =>
        Collect(model, new GenerateRequest(PromptIds: prompt, MaxTokens: maxTokens));

    public static async Task<List<int>> Collect(IModelGrain model, GenerateRequest request)
    {
        var ids = new List<int>();
        await foreach (var token in model.Generate(request))
        {
            ids.Add(token.TokenId);
        }

        return ids;
    }
}
