using System.Text.Json.Serialization;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Bench;

// The "cluster" section of `orleansquant bench --out`: greedy generations served through the grains of one in-process
// silo, and the same generations through the single-process engine on the same kind of device, in the same run.

/// <summary>What was served, where, and one row per concurrency.</summary>
internal sealed record ClusterBenchResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("weights")] string Weights,
    [property: JsonPropertyName("layers")] int Layers,
    [property: JsonPropertyName("stages")] int Stages,
    [property: JsonPropertyName("devices")] IReadOnlyList<string> Devices,
    [property: JsonPropertyName("single_process_device")] string SingleProcessDevice,
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("max_tokens")] int MaxTokens,
    [property: JsonPropertyName("runs")] IReadOnlyList<ServingRun> Runs);

/// <summary>
/// One concurrency: both paths, the cluster's tokens/s over the single process's (below 1: what Orleans costs), whether
/// every sequence's greedy ids agree, and the cluster's generation steps and hops, one row per hop kind.
/// </summary>
internal sealed record ServingRun(
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("cluster")] ServingPath Cluster,
    [property: JsonPropertyName("single_process")] ServingPath SingleProcess,
    [property: JsonPropertyName("tokens_per_s_ratio")] double TokensPerSecondRatio,
    [property: JsonPropertyName("ids_equal")] bool IdsEqual,
    [property: JsonPropertyName("sequences_differing")] int SequencesDiffering,
    [property: JsonPropertyName("steps")] long Steps,
    [property: JsonPropertyName("hops")] IReadOnlyList<HopRow> Hops);

/// <summary>
/// One path's generations, all started at once: output tokens over the time until the last one came; time to first
/// token (median over sequences); inter-token latency (median and 99th percentile over every gap of every sequence);
/// the generated ids of each sequence, in request order.
/// </summary>
internal sealed record ServingPath(
    [property: JsonPropertyName("output_tokens")] int OutputTokens,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("ttft_p50_ms")] double TimeToFirstTokenP50Ms,
    [property: JsonPropertyName("itl_p50_ms")] double InterTokenP50Ms,
    [property: JsonPropertyName("itl_p99_ms")] double InterTokenP99Ms,
    [property: JsonPropertyName("ids")] IReadOnlyList<IReadOnlyList<int>> Ids);

/// <summary>
/// One hop kind as the coordinator timed it: wall around the call, compute as the device work inside it (a stage's is
/// the sum over its layers, each layer's stage-internal grain call to the next included in overhead).
/// </summary>
internal sealed record HopRow(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("layers_per_call")] double LayersPerCall,
    [property: JsonPropertyName("wall_mean_ms")] double WallMeanMs,
    [property: JsonPropertyName("compute_mean_ms")] double ComputeMeanMs,
    [property: JsonPropertyName("overhead_mean_ms")] double OverheadMeanMs,
    [property: JsonPropertyName("overhead_p50_ms")] double OverheadP50Ms,
    [property: JsonPropertyName("overhead_p99_ms")] double OverheadP99Ms,
    [property: JsonPropertyName("overhead_per_layer_call_ms")] double? OverheadPerLayerCallMs)
{
    public static HopRow Of(HopTimes t) => new(t.Kind, t.Count, t.LayersPerCall, t.WallMeanMs, t.ComputeMeanMs, t.OverheadMeanMs,
        t.OverheadP50Ms, t.OverheadP99Ms, t.LayersPerCall > 0 ? t.OverheadMeanMs / t.LayersPerCall : null);
}
