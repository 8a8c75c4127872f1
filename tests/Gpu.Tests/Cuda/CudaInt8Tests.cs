using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>The W8A8 kernels on the GPU equal the CPU device's bit for bit: codes, scales, int32 sums and outputs.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaInt8Tests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuTheory]
    [InlineData(67, 1000)] // the float4 kernel, one float4 per thread (few rows)
    [InlineData(300, 4096)] // the float4 kernel, four per thread (rows enough to fill the GPU)
    [InlineData(5, 40000)] // the float4 kernel past its register cache (a second read of the row's tail)
    [InlineData(67, 1001)] // a width not a multiple of 4: the scalar kernel
    public void PerTokenQuantizationEqualsTheCpuBitForBit(int tokens, int width)
    {
        var random = Compare.Fresh(out int seed);
        var x = Compare.Floats(random, tokens * width, 3f);
        // Row 0: halfway cases at scale 1 (absmax 127), where round-half-to-even decides; row 1: all zeros (scale 1e-8);
        // row 2: one huge outlier, so most codes round to 0 or ±1.
        float[] ties = [127f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f];
        ties.CopyTo(x, 0);
        Array.Clear(x, width, width);
        x[2 * width + 17] = 5000f;

        var (cpuCodes, cpuScales) = Quantize(devices.Cpu, x, tokens, width);
        var (gpuCodes, gpuScales) = Quantize(devices.Gpu, x, tokens, width);

        Assert.True(cpuScales.AsSpan().SequenceEqual(gpuScales), $"scales differ (seed {seed})");
        int mismatch = cpuCodes.AsSpan().CommonPrefixLength(gpuCodes);
        Assert.True(mismatch == cpuCodes.Length,
            $"code {mismatch} differs (seed {seed}): cpu {cpuCodes.ElementAtOrDefault(mismatch)}, gpu {gpuCodes.ElementAtOrDefault(mismatch)}");
        Assert.Equal([127, 0, 2, 2, 0, -2, -2, 126, -126, 4], gpuCodes.Take(10).Select(c => (int)c));
        Assert.Equal(1e-8f, gpuScales[1]);
    }

    [GpuTheory]
    [InlineData(37, 96, 128, false)] // cuBLASLt's int8 tensor-core path
    [InlineData(1, 256, 512, false)] // decode: one token
    [InlineData(300, 512, 1024, false)]
    [InlineData(290, 512, 1024, false)] // same power-of-two bucket as 300: the remembered winner, re-checked
    [InlineData(37, 96, 128, true)] // the same shapes on this backend's own kernel
    [InlineData(300, 512, 1024, true)]
    [InlineData(5, 30, 70, false)] // K and N not multiples of 4: cuBLASLt refuses, the own kernel runs
    public void Int8GemmSumsEqualExactInt32Products(int tokens, int outputs, int inner, bool ownKernel)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var w = Compare.Codes(random, outputs * inner);
        // The extremes in one row of each: a sum near the int32-exactness bound still comes out exact.
        Array.Fill(q, (sbyte)-127, 0, inner);
        Array.Fill(w, (sbyte)127, 0, inner);

        var expected = new int[tokens * outputs];
        for (int t = 0; t < tokens; t++)
        {
            for (int n = 0; n < outputs; n++)
            {
                int sum = 0;
                for (int k = 0; k < inner; k++)
                {
                    sum += q[t * inner + k] * w[n * inner + k];
                }

                expected[t * outputs + n] = sum;
            }
        }

        var gpu = devices.Gpu;
        gpu.ForceOwnInt8Gemm = ownKernel;
        try
        {
            using var qt = gpu.UploadNew<sbyte>(q, tokens, inner);
            using var wt = gpu.UploadNew<sbyte>(w, outputs, inner);
            using var sums = gpu.Allocate(TensorType.Int32, tokens, outputs);
            gpu.Int8Gemm(qt, wt, sums);
            var actual = sums.ToArray<int>();
            output.WriteLine($"int8 GEMM T={tokens} N={outputs} K={inner}: {gpu.LastInt8GemmPath} ({gpu.LastInt8GemmTuning})");
            int mismatch = expected.AsSpan().CommonPrefixLength(actual);
            Assert.True(mismatch == expected.Length,
                $"sum {mismatch} differs (seed {seed}, path {gpu.LastInt8GemmPath}): expected {expected.ElementAtOrDefault(mismatch)}, got {actual.ElementAtOrDefault(mismatch)}");
            bool cublasShape = inner % 4 == 0 && outputs % 4 == 0;
            if (ownKernel || !cublasShape)
            {
                Assert.StartsWith("own kernel: ", gpu.LastInt8GemmPath);
            }
            else if (gpu.CublasLtUnavailable is null)
            {
                Assert.Equal("cublasLt", gpu.LastInt8GemmPath);
            }
        }
        finally
        {
            gpu.ForceOwnInt8Gemm = false;
        }
    }

    [GpuTheory]
    [InlineData(2048, 4096, 4096)] // Llama-3-8B q_proj at prefill
    [InlineData(64, 14336, 4096)] // gate/up at a decode batch
    public void CublasLtAndTheOwnKernelAgreeAtLlamaShapes(int tokens, int outputs, int inner)
    {
        var random = Compare.Fresh(out int seed);
        var gpu = devices.Gpu;
        using var q = gpu.UploadNew<sbyte>(Compare.Codes(random, tokens * inner), tokens, inner);
        using var w = gpu.UploadNew<sbyte>(Compare.Codes(random, outputs * inner), outputs, inner);
        using var fast = gpu.Allocate(TensorType.Int32, tokens, outputs);
        using var own = gpu.Allocate(TensorType.Int32, tokens, outputs);
        gpu.Int8Gemm(q, w, fast);
        float fastMs = gpu.MeasureMilliseconds(() => gpu.Int8Gemm(q, w, fast));
        string fastPath = gpu.LastInt8GemmPath;
        gpu.ForceOwnInt8Gemm = true;
        try
        {
            float ownMs = gpu.MeasureMilliseconds(() => gpu.Int8Gemm(q, w, own));
            // Timings are for the record only (one launch, no warm-up discipline); bench/ measures properly.
            output.WriteLine($"int8 GEMM T={tokens} N={outputs} K={inner}: {fastPath} {fastMs:F3} ms "
                + $"({2.0 * tokens * outputs * inner / fastMs / 1e9:F0} TOP/s), own kernel {ownMs:F3} ms");
        }
        finally
        {
            gpu.ForceOwnInt8Gemm = false;
        }

        Assert.True(fast.ToArray<int>().AsSpan().SequenceEqual(own.ToArray<int>()), $"cuBLASLt and the own kernel differ (seed {seed})");
    }

    [GpuTheory]
    [InlineData(19, 160, 64, true)]
    [InlineData(64, 1536, 512, false)]
    [InlineData(300, 2048, 1024, true)]
    [InlineData(7, 30, 70, true)] // N and K not multiples of 4: the own GEMM and the scalar kernels
    public void TheW8A8LinearEqualsTheCpuBitForBit(int tokens, int outputs, int inner, bool bias)
    {
        var random = Compare.Fresh(out int seed);
        var x = Compare.Floats(random, tokens * inner, 2f);
        var w = Compare.Codes(random, outputs * inner);
        var weightScales = Compare.Floats(random, outputs, 0.01f).Select(MathF.Abs).ToArray();
        var b = bias ? Compare.Floats(random, outputs) : null;

        float[] Run(IComputeDevice device)
        {
            using var input = device.UploadNew<float>(x, tokens, inner);
            using var codes = device.Allocate(TensorType.Int8, tokens, inner);
            using var scales = device.Allocate(TensorType.Float32, tokens, 1);
            using var weight = device.UploadNew<sbyte>(w, outputs, inner);
            using var ws = device.UploadVector<float>(weightScales);
            using var bt = b is null ? null : device.UploadVector<float>(b);
            using var output = device.Allocate(TensorType.Float32, tokens, outputs);
            device.QuantizePerToken(input, codes, scales);
            device.MatMulInt8(codes, scales, weight, ws, bt, output);
            return output.ToArray<float>();
        }

        var expected = Run(devices.Cpu);
        var actual = Run(devices.Gpu);
        int mismatch = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(mismatch == expected.Length,
            $"output {mismatch} differs (seed {seed}): cpu {expected.ElementAtOrDefault(mismatch)}, gpu {actual.ElementAtOrDefault(mismatch)}");
    }

    private static (sbyte[] Codes, float[] Scales) Quantize(IComputeDevice device, float[] x, int tokens, int width)
    {
        using var input = device.UploadNew<float>(x, tokens, width);
        using var codes = device.Allocate(TensorType.Int8, tokens, width);
        using var scales = device.Allocate(TensorType.Float32, tokens, 1);
        device.QuantizePerToken(input, codes, scales);
        return (codes.ToArray<sbyte>(), scales.ToArray<float>());
    }
}
