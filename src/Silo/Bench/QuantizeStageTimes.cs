using System.Text.Json.Serialization;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Bench;

/// <summary>One stage of an end-to-end quantization run and how long it took.</summary>
internal sealed record QuantizeStage(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("what")] string What);

/// <summary>
/// Splits a cluster quantization job into its stages by the job's own clock (<see cref="JobEvent.ElapsedSeconds"/>):
/// the last "sample" event ends self-calibration sampling, the last "calibrate" event the statistics pass, the last
/// "quantize" event the per-layer builds, and "done" the commit. A sequential job calibrates each layer right before
/// building it, so there the two are told apart by the layers' own build times (<see cref="JobEvent.LayerSeconds"/>).
/// </summary>
internal static class QuantizeStageTimes
{
    public static IReadOnlyList<QuantizeStage> Of(IReadOnlyList<JobEvent> events, bool sequential)
    {
        var done = events.LastOrDefault(e => e.Stage == "done")
            ?? throw new ArgumentException($"the quantization job has no 'done' event (last: {events.LastOrDefault()?.Stage ?? "none"}); it did not succeed", nameof(events));
        double sampled = LastOf(events, "sample") ?? 0;
        double quantized = LastOf(events, "quantize")
            ?? throw new ArgumentException("the quantization job reported no finished layer ('quantize' event)", nameof(events));

        // Each layer's build, as the layer measured it (layer-parallel builds queue per device, so on one device these add up).
        double builds = events.Where(e => e.Stage == "quantize" && e.Layer is not null).Sum(e => e.LayerSeconds ?? 0);
        var stages = new List<QuantizeStage>
        {
            new("sample", sampled, sampled > 0 ? "self-calibration: the full-precision model draws the samples through the cluster" : "samples given; none drawn"),
        };
        if (sequential)
        {
            double both = quantized - sampled;
            stages.Add(new("calibrate", Math.Max(0, both - builds), "per layer: statistics on the quantized prefix's outputs, then carrying them through the new weights"));
            stages.Add(new("build", Math.Min(both, builds), "per layer: SmoothQuant + GPTQ (sum of the layers' build times)"));
        }
        else
        {
            double calibrated = LastOf(events, "calibrate")
                ?? throw new ArgumentException("a layer-parallel job reported no calibration batch ('calibrate' event)", nameof(events));
            stages.Add(new("calibrate", calibrated - sampled, "one full-precision pass of every sample; each layer accumulates |x|max and XᵀX"));
            stages.Add(new("build", quantized - calibrated, $"every layer's SmoothQuant + GPTQ (queued per device; the layers' own times add up to {builds:F1}s)"));
        }

        stages.Add(new("commit", done.ElapsedSeconds - quantized, "every layer swaps in its new weights"));
        return stages;
    }

    private static double? LastOf(IReadOnlyList<JobEvent> events, string stage) =>
        events.LastOrDefault(e => e.Stage == stage) is { } last ? last.ElapsedSeconds : null;
}
