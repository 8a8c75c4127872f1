using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>NVRTC errors reach the caller with the compiler's own log; the availability probe explains itself.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaCompilerTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void ABadKernelSourceFailsWithNvrtcsLog()
    {
        var (major, minor) = devices.Gpu.ComputeCapability;
        const string source = "extern \"C\" __global__ void broken(float* x) { x[0] = undeclared_name; }";
        var error = Assert.Throws<CudaException>(() =>
            CudaKernelCompiler.Compile("broken.cu", source, new Dictionary<string, string>(), major, minor));
        Assert.Equal("NVRTC_ERROR_COMPILATION", error.Status);
        Assert.Contains("nvrtcCompileProgram(broken.cu", error.Message);
        Assert.Contains("undeclared_name", error.Message);
        Assert.Contains($"sm_{major}{minor}", error.Message);
    }

    [GpuFact]
    public void TheDeviceDescribesItself()
    {
        var gpu = devices.Gpu;
        output.WriteLine($"{gpu.Info}: sm_{gpu.ComputeCapability.Major}{gpu.ComputeCapability.Minor}, {gpu.MultiprocessorCount} SMs, "
            + $"{gpu.Info.TotalMemoryBytes >> 20} MiB; NVRTC {CudaKernelCompiler.NvrtcVersion}; libraries {CudaAvailability.Libraries}; "
            + $"cuBLASLt {gpu.CublasLtUnavailable ?? "loaded"}");
        Assert.Equal(DeviceKind.Cuda, gpu.Info.Kind);
        Assert.False(string.IsNullOrWhiteSpace(gpu.Name));
        Assert.True(gpu.MultiprocessorCount > 0);
        Assert.True(gpu.ComputeCapability.Major >= 7, $"compute capability {gpu.ComputeCapability}");
        Assert.True(devices.Gpu.Parallelism.MaxDegreeOfParallelism >= 1);
    }

    [Fact]
    public void WithoutCudaTheDeviceRefusesWithTheReason()
    {
        if (CudaAvailability.IsAvailable)
        {
            return;
        }

        var error = Assert.Throws<InvalidOperationException>(() => new CudaDevice(0));
        Assert.Contains("no CUDA device: ", error.Message);
        Assert.StartsWith("no CUDA device: ", CudaAvailability.Reason);
        Assert.Equal(0, CudaAvailability.DeviceCount);
    }
}
