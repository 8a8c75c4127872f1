using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// Per-token quantization at Llama-3-8B's widths and prefill token counts with each block size of the vectorised kernel:
/// codes and scales equal the device's own pick bit for bit, and µs a call (mean between CUDA events) printed.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaQuantizeTimingTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void QuantizeTimingsByBlockSize()
    {
        var gpu = devices.Gpu;
        Compare.SpinUp(gpu);
        var lines = new List<string> { "TIMING QUANT | T | width | µs (device's pick) | µs by threads a row" };
        foreach (int tokens in new[] { 512, 2048 })
        {
            foreach (int width in new[] { 4096, 14336 })
            {
                var random = new Random(tokens + width);
                using var x = gpu.UploadNew<float>(Compare.Floats(random, tokens * width, 3f), tokens, width);
                using var codes = gpu.Allocate(TensorType.Int8, tokens, width);
                using var scales = gpu.Allocate(TensorType.Float32, tokens, 1);
                gpu.QuantizePerToken(x, codes, scales);
                var expectedCodes = codes.ToArray<sbyte>();
                var expectedScales = scales.ToArray<float>();
                float picked = Compare.MeanMilliseconds(gpu, () => gpu.QuantizePerToken(x, codes, scales), 5, 100);
                var byThreads = new List<string>();
                try
                {
                    foreach (int threads in new[] { 128, 256, 512, 1024 })
                    {
                        gpu.QuantizeRowThreads = threads;
                        float ms = Compare.MeanMilliseconds(gpu, () => gpu.QuantizePerToken(x, codes, scales), 5, 100);
                        Assert.Equal(expectedCodes, codes.ToArray<sbyte>());
                        Compare.SameBits(expectedScales, scales.ToArray<float>(), $"scales, {threads} threads, T {tokens}, width {width}");
                        byThreads.Add($"{threads}: {ms * 1e3:F1}");
                    }
                }
                finally
                {
                    gpu.QuantizeRowThreads = 0;
                }

                lines.Add($"TIMING QUANT | {tokens} | {width} | {picked * 1e3:F1} | {string.Join(", ", byThreads)}");
            }
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }
    }
}
