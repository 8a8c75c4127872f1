namespace OrleansQuant.Contracts;

/// <summary>
/// Progress of a job. <see cref="Stage"/> is what it is doing ("load", "calibrate", "quantize", "save"), "heartbeat"
/// (sent at least every few seconds while a step runs, not kept in the job's log), "restart" (a quantization or a save starting
/// over after a silo left with layers, which were restored from the store: attempt <see cref="Done"/> of
/// <see cref="Total"/> was discarded, with <see cref="Message"/> saying why) or how it ended ("done", "failed",
/// "cancelled", with <see cref="Message"/>). A quantized layer carries its W8A8 output error before (plain round to
/// nearest) and after the recipe, and how long it took on its device. <see cref="Sequence"/> is the event's place in
/// the job's log: watch again from there after leaving.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobEvent(
    [property: Id(0)] string Stage,
    [property: Id(1)] int Done,
    [property: Id(2)] int Total,
    [property: Id(3)] double ElapsedSeconds,
    [property: Id(4)] int? Layer = null,
    [property: Id(5)] double? ErrorBefore = null,
    [property: Id(6)] double? ErrorAfter = null,
    [property: Id(7)] double? LayerSeconds = null,
    [property: Id(8)] string? Message = null,
    [property: Id(9)] int Sequence = -1)
{
    public bool IsFinal => Stage is "done" or "failed" or "cancelled";
}
