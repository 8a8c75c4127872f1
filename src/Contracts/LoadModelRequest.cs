namespace OrleansQuant.Contracts;

/// <summary>
/// Load a model into the cluster. <see cref="Model"/> is a checkpoint directory every silo can read, or a demo model
/// name. <see cref="KvCacheBudgetBytes"/> bounds each layer's KV cache; new sequences are refused beyond it.
/// <see cref="MaxDevices"/> limits how many of the cluster's devices the layers are spread over (all when null).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LoadModelRequest(
    [property: Id(0)] string Model,
    [property: Id(1)] long KvCacheBudgetBytes = 1L << 30,
    [property: Id(2)] int? MaxDevices = null);
