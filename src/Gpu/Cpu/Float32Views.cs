namespace OrleansQuant.Gpu.Cpu;

/// <summary>
/// BFloat16 activations on host cores, by the contract's own definition (<see cref="IComputeDevice"/>, "Activations"):
/// each bf16 tensor an op is given is replaced by a float32 copy — one copy per tensor, so an op whose output is one of
/// its inputs still sees them as one — the float32 kernel runs, and the copies of the outputs are rounded back. A CPU
/// device keeps float32 activations unless asked (<c>--dtype bf16</c>), so these copies cost only there and in tests
/// that hold a GPU's bf16 kernels against this device.
/// </summary>
internal sealed class Float32Views(CpuDevice device) : IDisposable
{
    private readonly Dictionary<DeviceTensor, DeviceTensor> _copies = new(ReferenceEqualityComparer.Instance);

    public static bool Any(DeviceTensor? a, DeviceTensor? b = null, DeviceTensor? c = null, DeviceTensor? d = null) =>
        a?.Type == TensorType.BFloat16 || b?.Type == TensorType.BFloat16 || c?.Type == TensorType.BFloat16 || d?.Type == TensorType.BFloat16;

    /// <summary>The tensor itself unless it is BFloat16; then its float32 copy, widened exactly.</summary>
    public DeviceTensor Of(DeviceTensor tensor)
    {
        if (tensor.Type != TensorType.BFloat16)
        {
            return tensor;
        }

        if (!_copies.TryGetValue(tensor, out var copy))
        {
            copy = device.Allocate(TensorType.Float32, tensor.Rows, tensor.Columns);
            BFloat16.Widen(((CpuTensor)tensor).Span<BFloat16>(), ((CpuTensor)copy).Span<float>());
            _copies[tensor] = copy;
        }

        return copy;
    }

    /// <inheritdoc cref="Of(DeviceTensor)"/>
    public DeviceTensor? OfOptional(DeviceTensor? tensor) => tensor is null ? null : Of(tensor);

    /// <summary>Rounds the float32 copy of <paramref name="output"/> back into it (nothing to do for a float32 output).</summary>
    public void Store(DeviceTensor? output)
    {
        if (output is not null && _copies.TryGetValue(output, out var copy))
        {
            BFloat16.Narrow(((CpuTensor)copy).Span<float>(), ((CpuTensor)output).Span<BFloat16>());
        }
    }

    public void Dispose()
    {
        foreach (var copy in _copies.Values)
        {
            copy.Dispose();
        }
    }
}
