namespace OrleansQuant.Contracts;

/// <summary>
/// Load a model into the cluster. <see cref="Model"/> is a checkpoint directory every silo can read, or a demo model
/// name. <see cref="KvCacheBudgetBytes"/> bounds each layer's KV cache; new sequences are refused beyond it.
/// <see cref="MaxDevices"/> limits how many of the cluster's devices the layers are spread over (all when null).
/// <see cref="DType"/> is what full-precision weights are stored as, vLLM's <c>--dtype</c>: <c>auto</c> (bfloat16 on
/// GPUs, float32 on CPU devices), <c>float32</c> or <c>bfloat16</c>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LoadModelRequest(
    [property: Id(0)] string Model,
    [property: Id(1)] long KvCacheBudgetBytes = 1L << 30,
    [property: Id(2)] int? MaxDevices = null,
    [property: Id(3)] string DType = "auto");
