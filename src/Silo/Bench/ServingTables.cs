namespace OrleansQuant.Silo.Bench;

/// <summary>The console tables of <c>bench --parts cluster</c>: both paths per concurrency, then the cluster's hops.</summary>
internal static class ServingTables
{
    public static string Paths(IEnumerable<ServingRun> runs)
    {
        var table = new TextTable("concurrency", "path", "output tokens", "tokens/s", "cluster/single", "TTFT p50 ms", "ITL p50 ms", "ITL p99 ms", "same greedy ids");
        foreach (var r in runs)
        {
            table.Add(r.Concurrency, "cluster", r.Cluster.OutputTokens, r.Cluster.TokensPerSecond.ToString("F1"), r.TokensPerSecondRatio.ToString("F2"),
                BenchTables.Ms(r.Cluster.TimeToFirstTokenP50Ms), BenchTables.Ms(r.Cluster.InterTokenP50Ms), BenchTables.Ms(r.Cluster.InterTokenP99Ms),
                r.IdsEqual ? "yes" : $"no: {r.SequencesDiffering} of {r.Concurrency} differ");
            table.Add(r.Concurrency, "single process", r.SingleProcess.OutputTokens, r.SingleProcess.TokensPerSecond.ToString("F1"), "",
                BenchTables.Ms(r.SingleProcess.TimeToFirstTokenP50Ms), BenchTables.Ms(r.SingleProcess.InterTokenP50Ms), BenchTables.Ms(r.SingleProcess.InterTokenP99Ms), "");
        }

        return table.ToString();
    }

    public static string Hops(IEnumerable<ServingRun> runs)
    {
        var table = new TextTable("concurrency", "steps", "hop", "count", "layers/call", "wall ms", "compute ms", "overhead ms", "overhead p50", "overhead p99", "per layer call");
        foreach (var r in runs)
        {
            foreach (var h in r.Hops)
            {
                table.Add(r.Concurrency, r.Steps, h.Kind, h.Count, h.LayersPerCall == 0 ? "" : h.LayersPerCall.ToString("F1"), BenchTables.Ms(h.WallMeanMs),
                    BenchTables.Ms(h.ComputeMeanMs), BenchTables.Ms(h.OverheadMeanMs), BenchTables.Ms(h.OverheadP50Ms), BenchTables.Ms(h.OverheadP99Ms),
                    h.OverheadPerLayerCallMs is { } perLayer ? BenchTables.Ms(perLayer) : "");
            }
        }

        return table.ToString();
    }
}
