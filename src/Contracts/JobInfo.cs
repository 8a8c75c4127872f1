namespace OrleansQuant.Contracts;

/// <summary>
/// A job a model grain owns (key <see cref="Id"/>, e.g. "quantize-2-7f3a": counted within a coordinator's activation and tagged by it, so an id names one job for ever): the call that starts one returns this at once;
/// its progress is read with <see cref="IModelGrain.WatchJob"/>, its outcome stays here and in the model's status.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Kind,
    [property: Id(2)] JobState State,
    [property: Id(3)] string Stage,
    [property: Id(4)] int Done,
    [property: Id(5)] int Total,
    [property: Id(6)] double ElapsedSeconds,
    [property: Id(7)] string? Error = null,
    [property: Id(8)] int Events = 0);
