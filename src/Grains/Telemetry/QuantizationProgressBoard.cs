using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace OrleansQuant.Grains.Telemetry;

/// <summary>
/// Each model's latest quantization as layers done of layers, for <see cref="OrleansQuantMetrics.QuantizationProgress"/>.
/// Written by the model grain as its job reports (on the grain's thread), read by the exporter on its own: a pair is
/// replaced whole, never torn. Kept after the job ends, so a scrape after it says 1 (or where a failed one stopped).
/// </summary>
internal static class QuantizationProgressBoard
{
    private static readonly ConcurrentDictionary<string, LayersDone> s_models = new();

    public static void Report(string model, int done, int total) => s_models[model] = new LayersDone(done, total);

    public static IEnumerable<Measurement<double>> Measure()
    {
        foreach (var (model, progress) in s_models)
        {
            yield return new Measurement<double>(progress.Total == 0 ? 0 : (double)progress.Done / progress.Total,
                new KeyValuePair<string, object?>(OrleansQuantMetrics.ModelTag, model));
        }
    }

    private sealed record LayersDone(int Done, int Total);
}
