namespace OrleansQuant.Gpu;

/// <summary>
/// One W8A8 projection of a grouped <see cref="IComputeDevice.MatMulInt8(DeviceTensor, DeviceTensor, ReadOnlySpan{Int8Projection})"/>:
/// int8 weight <c>[N, K]</c>, its per-channel scales and bias <c>[1, N]</c>, the output <c>[T, N]</c>, and whether the
/// result is added to the output (a residual) rather than written over it.
/// </summary>
public readonly record struct Int8Projection(DeviceTensor Weight, DeviceTensor WeightScales, DeviceTensor? Bias, DeviceTensor Output,
    bool Accumulate = false);
