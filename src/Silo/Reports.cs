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
