using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Engine;

/// <summary>Which weights a forward pass uses.</summary>
public enum WeightSet
{
    /// <summary>The weights in service.</summary>
    Serving,

    /// <summary>The weights a quantization built beside them and has not committed yet (sequential calibration).</summary>
    Pending,
}

/// <summary>
/// One forward step through a range of layers: the batch, the sequences that ended since the last step (their KV
/// caches are freed first), whether the layers collect calibration statistics, and which weights they use.
/// </summary>
public sealed record PipelineStep(ForwardBatch Batch, IReadOnlyList<long> Ended, bool Observe = false, WeightSet Weights = WeightSet.Serving)
{
    public static PipelineStep Serve(ForwardBatch batch, IReadOnlyList<long> ended) => new(batch, ended);
}
