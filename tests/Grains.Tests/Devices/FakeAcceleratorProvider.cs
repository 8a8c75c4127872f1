using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Tests.Devices;

/// <summary>Stands in for the CUDA provider to come: devices of another kind, named so a test can tell them apart.</summary>
internal sealed class FakeAcceleratorProvider(int autoCount) : IComputeDeviceProvider
{
    public DeviceKind Kind => DeviceKind.Cuda;

    public int AutoCount => autoCount;

    /// <summary>Like the CUDA provider, refuses with its reason when asked for devices it does not have.</summary>
    public IReadOnlyList<ComputeDeviceSlot> Create(int count) =>
        count < 1 || count > Math.Max(autoCount, 8)
            ? throw new InvalidOperationException($"asked for {count} fake devices, but there is no accelerator here")
            : Enumerable.Range(0, count).Select(i => new ComputeDeviceSlot(new FakeDevice(i), new DeviceWorker($"fake:{i}"))).ToArray();
}

/// <summary>A device that only describes itself; the registry tests never run kernels on it.</summary>
internal sealed class FakeDevice(int ordinal) : IComputeDevice
{
    private readonly CpuDevice _inner = new(ordinal, 1);

    public DeviceInfo Info => _inner.Info with { Kind = DeviceKind.Cuda, Name = "fake accelerator" };

    public ParallelOptions Parallelism => _inner.Parallelism;

    public DeviceTensor Allocate(TensorType type, int rows, int columns) => throw new NotSupportedException();

    public void Upload<T>(ReadOnlySpan<T> source, DeviceTensor destination) where T : unmanaged => throw new NotSupportedException();

    public void Download<T>(DeviceTensor source, Span<T> destination) where T : unmanaged => throw new NotSupportedException();

    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int rows) => throw new NotSupportedException();

    public void Embed(DeviceTensor ids, DeviceTensor table, DeviceTensor output) => throw new NotSupportedException();

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor output) => throw new NotSupportedException();

    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output) => throw new NotSupportedException();

    public void QuantizePerToken(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales) => throw new NotSupportedException();

    public void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales, DeviceTensor? bias, DeviceTensor output) =>
        throw new NotSupportedException();

    public void ApplyRope(DeviceTensor x, int heads, int headDim, DeviceTensor positions, DeviceTensor inverseFrequencies) => throw new NotSupportedException();

    public void WriteKvCache(DeviceTensor keys, DeviceTensor values, DeviceTensor slots, DeviceTensor keyCache, DeviceTensor valueCache) =>
        throw new NotSupportedException();

    public void PagedAttention(DeviceTensor query, DeviceTensor keyCache, DeviceTensor valueCache, AttentionBatch batch, AttentionShape shape, DeviceTensor output) =>
        throw new NotSupportedException();

    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor output) => throw new NotSupportedException();

    public void AddInPlace(DeviceTensor x, DeviceTensor y) => throw new NotSupportedException();

    public void AccumulateAbsMax(DeviceTensor x, DeviceTensor absMax) => throw new NotSupportedException();

    public void AccumulateGram(DeviceTensor x, DeviceTensor gram) => throw new NotSupportedException();

    public void Synchronize()
    {
    }

    public void SampleTokens(DeviceTensor logits, ReadOnlySpan<SamplingRow> rows, DeviceTensor ids, DeviceTensor logProbs) =>
        throw new NotSupportedException();

    public void Dispose() => _inner.Dispose();
}
