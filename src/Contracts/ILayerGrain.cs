namespace OrleansQuant.Contracts;

/// <summary>
/// The data plane of one decoder layer (key: "model/layer"), pinned to one device of one silo: forward passes over the
/// KV cache of every live sequence. Its control plane is <see cref="ILayerControlGrain"/> (same key, same grain).
/// </summary>
public interface ILayerGrain : IGrainWithStringKey
{
    /// <summary>Runs one micro-batch through this layer and the rest of its stage (<see cref="StageStep.Through"/>).</summary>
    Task<StageOutput> Forward(StageStep step);

    /// <summary>Frees the KV cache of finished sequences.</summary>
    Task EndSequences(IReadOnlyList<long> sequences);
}
