using OrleansQuant.Contracts;
using OrleansQuant.Model.Evaluation;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Silo;

/// <summary>The tables the CLI prints: per-layer quantization results and evaluation figures.</summary>
internal static class Reports
{
    public static string LayerTable(QuantizationReport report)
    {
        var table = new TextTable("layer", "time", "linears", "W8A8 error before (RTN)", "W8A8 error after", "GPTQ loss");
        foreach (var layer in report.Layers)
        {
            table.Add(layer.Layer, layer.Duration, layer.Linears.Count, Error(layer.ErrorBefore), Error(layer.ErrorAfter), layer.Linears.Sum(l => l.WeightLoss));
        }

        table.Add("mean", TimeSpan.FromTicks((long)report.Layers.Average(l => l.Duration.Ticks)), "",
            Error(report.Layers.Average(l => l.ErrorBefore)), Error(report.Layers.Average(l => l.ErrorAfter)), report.Layers.Average(l => l.Linears.Sum(x => x.WeightLoss)));
        return table.ToString();
    }

    /// <summary>Where each layer lives and how it is doing.</summary>
    public static string PlacementTable(ModelStatus status)
    {
        var table = new TextTable("layer", "silo", "device", "state", "version", "live sequences", "error");
        foreach (var layer in status.Layers)
        {
            table.Add(layer.Layer, layer.Silo, layer.Device, layer.State, layer.Version, layer.LiveSequences, layer.Error ?? "");
        }

        return table.ToString();
    }

    /// <summary>The per-layer results of a cluster quantization, from its progress events.</summary>
    public static string LayerTable(IEnumerable<JobEvent> events, ModelStatus status)
    {
        var table = new TextTable("layer", "silo", "device", "W8A8 error before (RTN)", "W8A8 error after", "done at");
        foreach (var e in events.Where(e => e is { Layer: not null, Stage: "quantize" }).OrderBy(e => e.Layer))
        {
            var layer = status.Layers[e.Layer!.Value];
            table.Add(e.Layer, layer.Silo, layer.Device, e.ErrorBefore is double b ? Error(b) : "", e.ErrorAfter is double a ? Error(a) : e.Stage, TimeSpan.FromSeconds(e.ElapsedSeconds));
        }

        return table.ToString();
    }

    /// <summary>A model's jobs, oldest first: what each did, how far it got and how it ended.</summary>
    public static string JobTable(IEnumerable<JobInfo> jobs)
    {
        var table = new TextTable("job", "state", "stage", "done", "elapsed", "error");
        foreach (var j in jobs)
        {
            table.Add(j.Id, j.State.ToString().ToLowerInvariant(), j.Stage, $"{j.Done}/{j.Total}", TimeSpan.FromSeconds(Math.Round(j.ElapsedSeconds)), j.Error ?? "");
        }

        return table.ToString();
    }

    private static string Error(double value) => value.ToString("0.000E+00");

    public static string EvaluationTable(IReadOnlyList<EvaluationResult> results)
    {
        var table = new TextTable("model", "tokens", "perplexity", "KL(first‖this)/token", "top-1 agreement");
        foreach (var r in results)
        {
            table.Add(r.Model, r.Tokens, r.Perplexity, r.MeanKlDivergence is double kl ? Error(kl) : "", r.Top1Agreement is double a ? $"{a:P2}" : "");
        }

        return table.ToString();
    }
}
