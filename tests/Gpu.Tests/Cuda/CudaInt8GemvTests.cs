using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The fused int8 GEMV that <see cref="CudaDevice.MatMulInt8"/> runs at 1 to <see cref="CudaDevice.Int8GemvMaxTokens"/>
/// tokens (int8_gemv.cu) equals, bit for bit, the CPU device and the cuBLASLt GEMM + dequantize path; and its timings
/// beside that path's, printed.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaInt8GemvTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const int Warmup = 10, Iterations = 200;

    // (K, N): Llama-3-8B's fused qkv, o, down and fused gate_up, then shapes with K not a multiple of 16 (the byte-load
    // kernel), N odd (a warp's second row past the end) and N smaller than one block's 8 channels.
    private static readonly (int Inner, int Outputs)[] s_shapes =
        [(4096, 6144), (4096, 4096), (14336, 4096), (4096, 28672), (100, 37), (33, 5), (4100, 96), (16, 3), (528, 17)];

    public static TheoryData<int, int, int> Cases()
    {
        var cases = new TheoryData<int, int, int>();
        foreach (int tokens in new[] { 1, 2, 3, 8 })
        {
            foreach (var (inner, outputs) in s_shapes)
            {
                cases.Add(tokens, inner, outputs);
            }
        }

        return cases;
    }

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void TheGemvEqualsTheCpuAndCublasLtBitForBit(int tokens, int inner, int outputs)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var w = Compare.Codes(random, outputs * inner);
        // The extremes: token 0 all −127 against a row of 127 and a row of −127, sums of ±K·127² (the largest there are).
        Array.Fill(q, (sbyte)-127, 0, inner);
        Array.Fill(w, (sbyte)127, 0, inner);
        if (outputs > 1)
        {
            Array.Fill(w, (sbyte)-127, inner, inner);
        }

        var tokenScales = Compare.Floats(random, tokens, 0.05f).Select(s => MathF.Abs(s) + 1e-4f).ToArray();
        var weightScales = Compare.Floats(random, outputs, 0.01f).Select(s => MathF.Abs(s) + 1e-5f).ToArray();
        var b = Compare.Floats(random, outputs);
        var gpu = devices.Gpu;
        string expectedPath = inner % 16 == 0 ? CudaDevice.Int8GemvPath : CudaDevice.Int8GemvBytesPath;

        foreach (bool withBias in new[] { false, true })
        {
            var cpu = Run(devices.Cpu, withBias);
            var gemv = Run(gpu, withBias);
            Assert.Equal(expectedPath, gpu.LastInt8GemmPath);
            gpu.Int8Gemv = false;
            float[] cublas;
            try
            {
                cublas = Run(gpu, withBias);
                Assert.DoesNotContain("gemv", gpu.LastInt8GemmPath);
            }
            finally
            {
                gpu.Int8Gemv = true;
            }

            Compare.SameBits(cpu, gemv, $"GEMV vs CPU, bias {withBias} (seed {seed})");
            Compare.SameBits(cublas, gemv, $"GEMV vs {gpu.LastInt8GemmPath}, bias {withBias} (seed {seed})");
            Assert.Equal(cpu, gemv);
        }

        float[] Run(IComputeDevice device, bool withBias)
        {
            using var codes = device.UploadNew<sbyte>(q, tokens, inner);
            using var scales = device.UploadNew<float>(tokenScales, tokens, 1);
            using var weight = device.UploadNew<sbyte>(w, outputs, inner);
            using var ws = device.UploadVector<float>(weightScales);
            using var bt = withBias ? device.UploadVector<float>(b) : null;
            using var y = device.Allocate(TensorType.Float32, tokens, outputs);
            device.MatMulInt8(codes, scales, weight, ws, bt, y);
            return y.ToArray<float>();
        }
    }

    [GpuFact]
    public void PastTheCutOffTheGemmRuns()
    {
        var gpu = devices.Gpu;
        var random = new Random(3);
        int tokens = CudaDevice.Int8GemvMaxTokens + 1;
        using var q = gpu.UploadNew<sbyte>(Compare.Codes(random, tokens * 256), tokens, 256);
        using var ts = gpu.UploadNew<float>(Enumerable.Repeat(0.01f, tokens).ToArray(), tokens, 1);
        using var w = gpu.UploadNew<sbyte>(Compare.Codes(random, 64 * 256), 64, 256);
        using var ws = gpu.UploadVector<float>(Enumerable.Repeat(0.02f, 64).ToArray());
        using var y = gpu.Allocate(TensorType.Float32, tokens, 64);
        gpu.MatMulInt8(q, ts, w, ws, null, y);
        Assert.DoesNotContain("gemv", gpu.LastInt8GemmPath);
        using var one = gpu.Allocate(TensorType.Float32, 1, 64);
        using var q1 = gpu.UploadNew<sbyte>(Compare.Codes(random, 256), 1, 256);
        using var ts1 = gpu.UploadNew<float>([0.01f], 1, 1);
        gpu.MatMulInt8(q1, ts1, w, ws, null, one);
        Assert.Equal(CudaDevice.Int8GemvPath, gpu.LastInt8GemmPath);
    }

    /// <summary>
    /// The W8A8 linear (MatMulInt8 of pre-quantized codes, no bias) at decode token counts and Llama-3-8B shapes, on the
    /// GEMV and on cuBLASLt + dequantize: µs a call (mean over 200 calls between two CUDA events, after 10 warm-up calls
    /// and about 0.2 s of GEMMs to bring the clocks up) and the weight bytes' rate. Printed, not asserted.
    /// </summary>
    [GpuFact]
    public void GemvTimingsAtLlama3_8BShapes()
    {
        (string Name, int Inner, int Outputs)[] ops = [("qkv", 4096, 6144), ("o", 4096, 4096), ("gate_up", 4096, 28672), ("down", 14336, 4096)];
        var gpu = devices.Gpu;
        Compare.SpinUp(devices.Gpu);
        var lines = new List<string> { "TIMING GEMV | T | op | K × N | GEMV µs | GB/s | cuBLASLt+dequant µs | GB/s | speed-up" };
        foreach (int tokens in new[] { 1, 8 })
        {
            foreach (var (name, inner, outputs) in ops)
            {
                var random = new Random(tokens * 31 + outputs);
                using var q = gpu.UploadNew<sbyte>(Compare.Codes(random, tokens * inner), tokens, inner);
                using var ts = gpu.UploadNew<float>(Compare.Floats(random, tokens, 0.05f).Select(s => MathF.Abs(s) + 1e-4f).ToArray(), tokens, 1);
                using var w = gpu.UploadNew<sbyte>(Compare.Codes(random, outputs * inner), outputs, inner);
                using var ws = gpu.UploadVector<float>(Compare.Floats(random, outputs, 0.01f).Select(MathF.Abs).ToArray());
                using var y = gpu.Allocate(TensorType.Float32, tokens, outputs);
                float gemv = Measure(() => gpu.MatMulInt8(q, ts, w, ws, null, y));
                string gemvPath = gpu.LastInt8GemmPath;
                gpu.Int8Gemv = false;
                float cublas;
                try
                {
                    cublas = Measure(() => gpu.MatMulInt8(q, ts, w, ws, null, y));
                }
                finally
                {
                    gpu.Int8Gemv = true;
                }

                double bytes = (double)outputs * inner;
                lines.Add($"TIMING GEMV | {tokens} | {name} | {inner} × {outputs} | {gemv * 1e3:F1} | {bytes / (gemv * 1e-3) / 1e9:F0} | "
                    + $"{cublas * 1e3:F1} | {bytes / (cublas * 1e-3) / 1e9:F0} | {cublas / gemv:F2}× ({gemvPath})");
            }
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }

        float Measure(Action call) => Compare.MeanMilliseconds(gpu, call, Warmup, Iterations);
    }
}
