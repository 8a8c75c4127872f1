using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Inference;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The TMA-fed int8 GEMM launched as a programmatic dependent of the quantization before it (Hopper's PDL): it starts
/// loading weights while the quantization still runs, so it must read x's codes, the token scales and the residual it
/// adds into only after that kernel ends. Round after round a fresh input is quantized into the same buffers the GEMM
/// reads; every round's output equals the ordinary launch's bit for bit.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaProgrammaticLaunchTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuTheory]
    [InlineData(512, 4096, 4096)] // o_proj at 512 tokens: 128 × 128 tiles
    [InlineData(2048, 4096, 6144)] // 256-row tiles
    [InlineData(100, 14336, 4096)] // 64-row tiles, a long K (more K tiles than stages)
    [InlineData(40, 256, 512)] // fewer K tiles than stages
    public void EveryRoundReadsTheCodesItsOwnQuantizationMade(int tokens, int inner, int outputs)
    {
        var gpu = devices.Gpu;
        if (gpu.ComputeCapability.Major < 9)
        {
            return; // programmatic launches and the TMA GEMM are Hopper's
        }

        var random = Compare.Fresh(out int seed);
        using var weight = gpu.UploadNew<sbyte>(Compare.Codes(random, outputs * inner), outputs, inner);
        using var weightScales = gpu.UploadVector<float>(Compare.Floats(random, outputs, 1e-3f).Select(s => Math.Abs(s) + 1e-4f).ToArray());
        using var codes = gpu.Allocate(TensorType.Int8, tokens, inner);
        using var tokenScales = gpu.Allocate(TensorType.Float32, tokens, 1);
        int minTokens = gpu.Int8MmaMinTokens;
        gpu.Int8MmaMinTokens = 1;
        try
        {
            for (int round = 0; round < 4; round++)
            {
                var x = Compare.Floats(random, tokens * inner, 2f + round);
                var residual = Compare.Floats(random, tokens * outputs, 4f);
                ulong[] Run(bool programmatic)
                {
                    gpu.ProgrammaticLaunch = programmatic;
                    using var input = gpu.UploadFloats(x, tokens, inner, TensorType.BFloat16);
                    using var output = gpu.UploadFloats(residual, tokens, outputs, TensorType.BFloat16);
                    gpu.QuantizePerToken(input, codes, tokenScales);
                    gpu.MatMulInt8(codes, tokenScales, weight, weightScales, null, output, accumulate: true);
                    Assert.Equal(CudaDevice.Int8TmaPath, gpu.LastInt8GemmPath);
                    return BFloat16Samples.BitsOf(output);
                }

                var ordinary = Run(programmatic: false);
                var overlapped = Run(programmatic: true);
                Assert.True(ordinary.AsSpan().SequenceEqual(overlapped),
                    $"round {round}, [{tokens}, {inner}] · [{outputs}, {inner}]: the programmatic launch differs (seed {seed})");
            }
        }
        finally
        {
            gpu.ProgrammaticLaunch = true;
            gpu.Int8MmaMinTokens = minTokens;
        }
    }

    /// <summary>
    /// The whole W8A8 linear (per-token quantization of a bf16 input, then the GEMM into a bf16 output) at Llama-3-8B
    /// shapes, launched the ordinary way and as a programmatic dependent, for the record (a timing, not a goal).
    /// </summary>
    [GpuFact]
    public void TimingOfTheW8A8LinearWithAndWithoutProgrammaticLaunch()
    {
        var gpu = devices.Gpu;
        if (gpu.ComputeCapability.Major < 9)
        {
            return;
        }

        var random = new Random(5);
        Compare.SpinUp(gpu);
        var lines = new List<string> { "TIMING PDL | T | op | K × N | ordinary µs | programmatic µs | ordinary / programmatic" };
        foreach (int tokens in new[] { 512, 2048 })
        {
            foreach (var (op, k, n) in new[] { ("qkv", 4096, 6144), ("o", 4096, 4096), ("gate_up", 4096, 28672), ("down", 14336, 4096) })
            {
                using var linear = new Int8Linear(gpu.UploadNew<sbyte>(Compare.Codes(random, n * k), n, k),
                    gpu.UploadVector<float>(Compare.Floats(random, n, 1e-3f).Select(s => Math.Abs(s) + 1e-4f).ToArray()), bias: null);
                using var x = gpu.UploadFloats(Compare.Floats(random, tokens * k, 1f), tokens, k, TensorType.BFloat16);
                using var y = gpu.Allocate(TensorType.BFloat16, tokens, n);
                try
                {
                    gpu.ProgrammaticLaunch = false;
                    float ordinary = Compare.MeanMilliseconds(gpu, () => linear.Forward(x, y), 5, 50);
                    gpu.ProgrammaticLaunch = true;
                    float programmatic = Compare.MeanMilliseconds(gpu, () => linear.Forward(x, y), 5, 50);
                    lines.Add($"TIMING PDL | {tokens} | {op} | {k} × {n} | {ordinary * 1e3:F1} | {programmatic * 1e3:F1} | {ordinary / programmatic:F3}");
                }
                finally
                {
                    gpu.ProgrammaticLaunch = true;
                }
            }
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }
    }
}
