namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>Page-locked host copies of GPU tensors (what a layer parks its full-precision weights in) come back bit for bit.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaHostCopyTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void EveryTypeRoundTripsThroughPinnedHostMemory() => HostCopyTests.RoundTrip(devices.Gpu);

    [GpuFact]
    public void ACopyFromTheCpuDeviceIsRefused()
    {
        using var tensor = devices.Cpu.UploadVector<float>([1f, 2f, 3f]);
        using var copy = devices.Cpu.CopyToHost(tensor);
        Assert.Throws<ArgumentException>(() => devices.Gpu.CopyToDevice(copy));
    }
}
