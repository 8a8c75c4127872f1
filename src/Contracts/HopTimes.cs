namespace OrleansQuant.Contracts;

/// <summary>
/// One kind of hop the coordinator makes per generation step — "embed" (token embedding on the coordinator's device),
/// "stage" (one call through a stage's layer grains) or "head" (final norm and lm_head) — over the hops made since the
/// last reset: how many, how many layers a call ran on average, and its mean wall and compute time. Overhead = wall −
/// compute, with its mean and its median and 99th percentile over the most recent hops of the kind (a bounded window).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HopTimes(
    [property: Id(0)] string Kind,
    [property: Id(1)] long Count,
    [property: Id(2)] double LayersPerCall,
    [property: Id(3)] double WallMeanMs,
    [property: Id(4)] double ComputeMeanMs,
    [property: Id(5)] double OverheadMeanMs,
    [property: Id(6)] double OverheadP50Ms,
    [property: Id(7)] double OverheadP99Ms);
