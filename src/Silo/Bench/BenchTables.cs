using OrleansQuant.Model.Benchmarks;

namespace OrleansQuant.Silo.Bench;

/// <summary>The console tables of <c>orleansquant bench</c>: ms per call, and ratios within this run (lower is faster).</summary>
internal static class BenchTables
{
    public static string Gemm(IEnumerable<GemmResult> rows)
    {
        var table = new TextTable("tokens", "op", "k × n", "fp ms", "int8 ms", "quantize ms", "W8A8 linear ms", "int8/fp", "W8A8 linear/fp");
        foreach (var r in rows)
        {
            table.Add(r.Tokens, r.Op, $"{r.K} × {r.N}", Ms(r.FpMs), Ms(r.Int8Ms), Ms(r.QuantizeMs), Ms(r.W8A8LinearMs), Ratio(r.Int8Ms, r.FpMs), Ratio(r.W8A8LinearMs, r.FpMs));
        }

        return table.ToString();
    }

    public static string Prefill(IEnumerable<PrefillResult> rows)
    {
        var table = new TextTable("tokens", "FP layer ms", "W8A8 layer ms", "W8A8/FP");
        foreach (var r in rows)
        {
            table.Add(r.Tokens, Ms(r.FpMs), Ms(r.W8A8Ms), Ratio(r.W8A8Ms, r.FpMs));
        }

        return table.ToString();
    }

    public static string Decode(IEnumerable<DecodeResult> rows, LayerFacts? facts)
    {
        var table = new TextTable("batch", "context", "FP layer ms", "W8A8 layer ms", "W8A8/FP", "W8A8/floor");
        foreach (var r in rows)
        {
            table.Add(r.Batch, r.Context, Ms(r.FpMs), Ms(r.W8A8Ms), Ratio(r.W8A8Ms, r.FpMs), facts is null ? "" : Ratio(r.W8A8Ms, facts.DecodeFloorMs));
        }

        return table.ToString();
    }

    public static string DecodeGraphs(IEnumerable<DecodeGraphResult> rows)
    {
        var table = new TextTable("batch", "context", "launched ms", "graph ms", "graph/launched");
        foreach (var r in rows)
        {
            table.Add(r.Batch, r.Context, Ms(r.LaunchedMs), Ms(r.GraphMs), Ratio(r.GraphMs, r.LaunchedMs));
        }

        return table.ToString();
    }

    public static string Gptq(IEnumerable<GptqResult> rows)
    {
        var table = new TextTable("op", "rows × columns", "H from tokens", "threads", "GPTQ s");
        foreach (var r in rows)
        {
            table.Add(r.Op, $"{r.Rows} × {r.Columns}", r.CalibrationTokens, r.Threads, (r.Ms / 1e3).ToString("F3"));
        }

        return table.ToString();
    }

    public static string Ms(double ms) => ms.ToString(ms < 1 ? "F4" : ms < 100 ? "F3" : "F1");

    public static string Bytes(long bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : bytes >= 1e6 ? $"{bytes / 1e6:F1} MB" : $"{bytes / 1e3:F1} kB";

    private static string Ratio(double value, double baseline) => (value / baseline).ToString("F2");
}
