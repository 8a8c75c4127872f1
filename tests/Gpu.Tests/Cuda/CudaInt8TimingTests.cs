using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Inference;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The W8A8 linear's parts timed at Llama-3-8B shapes (fused qkv, o, fused gate_up, down) and 64, 512 and 2048 tokens;
/// printed, not asserted. Each figure is the mean over 20 calls between two CUDA events, after 3 warm-up calls (the
/// first of which picks cuBLASLt's algorithm); before all of them, about 0.2 s of GEMMs bring the clocks up. "dequant"
/// is MatMulInt8 minus Int8Gemm: the epilogue kernel and the int32 scratch it needs. Weights are random int8 codes, activations random floats (never zeros).
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaInt8TimingTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const int Warmup = 3, Iterations = 20;

    [GpuFact]
    public void W8A8LinearTimingsAtLlama3_8BShapes()
    {
        (string Name, int Inner, int Outputs)[] ops = [("qkv", 4096, 6144), ("o", 4096, 4096), ("gate_up", 4096, 28672), ("down", 14336, 4096)];
        Compare.SpinUp(devices.Gpu);
        var lines = new List<string> { "TIMING W8A8 | T | op | K × N | int8 GEMM ms | TOP/s | dequant ms | MatMulInt8 ms | quantize ms | whole linear ms" };
        foreach (int tokens in new[] { 64, 512, 2048 })
        {
            foreach (var (name, inner, outputs) in ops)
            {
                lines.Add(Time(name, tokens, inner, outputs));
            }
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }
    }

    private string Time(string name, int tokens, int inner, int outputs)
    {
        var gpu = devices.Gpu;
        var random = new Random(tokens * 31 + outputs);
        using var x = gpu.UploadNew<float>(Compare.Floats(random, tokens * inner, 2f), tokens, inner);
        using var q = gpu.Allocate(TensorType.Int8, tokens, inner);
        using var ts = gpu.Allocate(TensorType.Float32, tokens, 1);
        using var sums = gpu.Allocate(TensorType.Int32, tokens, outputs);
        using var y = gpu.Allocate(TensorType.Float32, tokens, outputs);
        using var linear = new Int8Linear(gpu.UploadNew<sbyte>(Compare.Codes(random, outputs * inner), outputs, inner),
            gpu.UploadVector<float>(Compare.Floats(random, outputs, 0.01f).Select(MathF.Abs).ToArray()), bias: null);
        gpu.QuantizePerToken(x, q, ts);

        float Measure(Action call) => Compare.MeanMilliseconds(gpu, call, Warmup, Iterations);

        float gemm = Measure(() => gpu.Int8Gemm(q, linear.Weight, sums));
        string path = gpu.LastInt8GemmPath;
        string tuning = gpu.GetType().GetProperty("LastInt8GemmTuning")?.GetValue(gpu) as string ?? "heuristic's first (no tuning in this build)";
        float matMul = Measure(() => gpu.MatMulInt8(q, ts, linear.Weight, linear.WeightScales, null, y));
        float quantize = Measure(() => gpu.QuantizePerToken(x, q, ts));
        float whole = Measure(() => linear.Forward(x, y));
        var check = y.ToArray<float>();
        Assert.All(check.Take(4096), value => Assert.True(float.IsFinite(value)));
        output.WriteLine($"{name} T={tokens}: {path}; {tuning}");
        Console.WriteLine($"TIMING-PATH {name} T={tokens}: {path}; {tuning}");
        return $"TIMING W8A8 | {tokens} | {name} | {inner} × {outputs} | {gemm:F4} | {2.0 * tokens * outputs * inner / gemm / 1e9:F0} | "
            + $"{matMul - gemm:F4} | {matMul:F4} | {quantize:F4} | {whole:F4}";
    }
}
