using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The CUDA device's BFloat16 tensors and operations against the CPU device on fresh random inputs: conversions bit
/// for bit, the bf16-weight GEMM within float-sum tolerance at Llama and odd shapes, |x|max exactly, the bf16 Gram
/// (tensor-core fp32 sums added to double) within 1e-5 over several calls on every path, and embedding exactly.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaBFloat16Tests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const double MatMulTolerance = 1e-4;
    private const double Bf16GramTolerance = 1e-5;
    private const double Fp64GramTolerance = 1e-12;

    private static readonly int[] Batches = [1, 37, 2048];

    [GpuFact]
    public void UploadDownloadAndCopyRowsRoundTrip()
    {
        var gpu = devices.Gpu;
        var random = Compare.Fresh(out _);
        var values = Enumerable.Range(0, 3000).Select(_ => new BFloat16((ushort)random.Next(65536))).ToArray();
        using var source = gpu.UploadNew<BFloat16>(values, 60, 50);
        Assert.Equal(values, source.ToArray<BFloat16>());
        using var destination = gpu.Allocate(TensorType.BFloat16, 70, 50);
        gpu.CopyRows(source, 5, destination, 10, 40);
        var copied = destination.ToArray<BFloat16>();
        Assert.Equal(new BFloat16[500], copied[..500]);
        Assert.Equal(values[250..2250], copied[500..2500]);
        Assert.Equal(new BFloat16[1000], copied[2500..]);
    }

    [GpuTheory]
    [MemberData(nameof(BFloat16Samples.ConversionPairs), MemberType = typeof(BFloat16Samples))]
    public void ConvertIsBitForBitTheCpuDevices(TensorType from, TensorType to)
    {
        var random = Compare.Fresh(out int seed);
        var values = BFloat16Samples.Doubles(random, 200_000);
        var expected = Convert(devices.Cpu, from, to, values);
        var actual = Convert(devices.Gpu, from, to, values);
        // The bfloat16 kernels keep a NaN's sign and payload as the host does; the older Float32 ↔ Float64 kernels
        // use the GPU's conversion, whose NaN payload is not specified, so there a NaN need only stay a NaN.
        bool payloadsUnspecified = from != TensorType.BFloat16 && to != TensorType.BFloat16;
        for (int i = 0; i < values.Length; i++)
        {
            if (payloadsUnspecified && IsNaN(to, expected[i]) && IsNaN(to, actual[i]))
            {
                continue;
            }

            Assert.True(expected[i] == actual[i],
                $"{from} → {to} (seed {seed}): value {values[i]:R} (0x{BitConverter.DoubleToInt64Bits(values[i]):X16}) is 0x{actual[i]:X} on the GPU, 0x{expected[i]:X} on the CPU");
        }
    }

    private static ulong[] Convert(IComputeDevice device, TensorType from, TensorType to, double[] values)
    {
        using var source = BFloat16Samples.Upload(device, from, values, values.Length / 500, 500);
        using var destination = device.Allocate(to, values.Length / 500, 500);
        device.Convert(source, destination);
        return BFloat16Samples.BitsOf(destination);
    }

    private static bool IsNaN(TensorType type, ulong bits) => type switch
    {
        TensorType.Float64 => double.IsNaN(BitConverter.Int64BitsToDouble((long)bits)),
        TensorType.Float32 => float.IsNaN(BitConverter.UInt32BitsToSingle((uint)bits)),
        _ => float.IsNaN(new BFloat16((ushort)bits).ToSingle()),
    };

    [GpuTheory]
    [InlineData(1, 4096, 6144, false)]
    [InlineData(7, 4096, 6144, true)]
    [InlineData(64, 4096, 6144, false)]
    [InlineData(300, 4096, 6144, true)]
    [InlineData(1, 96, 40, true)]
    [InlineData(7, 96, 40, false)]
    [InlineData(64, 96, 40, true)]
    [InlineData(300, 96, 40, false)]
    [InlineData(5, 33, 7, true)]
    public void MatMulWithABFloat16WeightMatchesTheCpuDevice(int tokens, int inner, int outputs, bool withBias)
    {
        var random = Compare.Fresh(out int seed);
        var x = Compare.Floats(random, tokens * inner, 4f);
        var w = Compare.Floats(random, outputs * inner, 0.05f).Select(BFloat16.FromSingle).ToArray();
        var b = Compare.Floats(random, outputs, 1f);
        var expected = MatMul(devices.Cpu, x, w, withBias ? b : null, tokens, inner, outputs);
        var actual = MatMul(devices.Gpu, x, w, withBias ? b : null, tokens, inner, outputs);
        output.WriteLine($"T={tokens}, K={inner}, N={outputs}, bias {withBias}: {devices.Gpu.LastMatMulPath}");
        Compare.Close(expected, actual, MatMulTolerance, $"bf16 MatMul T={tokens}, K={inner}, N={outputs}, bias {withBias} (seed {seed})");
    }

    private static float[] MatMul(IComputeDevice device, float[] x, BFloat16[] w, float[]? b, int tokens, int inner, int outputs)
    {
        using var input = device.UploadNew<float>(x, tokens, inner);
        using var weight = device.UploadNew<BFloat16>(w, outputs, inner);
        using var bias = b is null ? null : device.UploadVector<float>(b);
        using var result = device.Allocate(TensorType.Float32, tokens, outputs);
        device.MatMul(input, weight, bias, result);
        return result.ToArray<float>();
    }

    [GpuTheory]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void AbsMaxOfBFloat16IsExactlyTheCpuDevices(int n)
    {
        var random = Compare.Fresh(out int seed);
        var start = Compare.Floats(random, n, 3f).Select(MathF.Abs).ToArray();
        using var cpuMax = devices.Cpu.UploadVector<float>(start);
        using var gpuMax = devices.Gpu.UploadVector<float>(start);
        foreach (int tokens in Batches)
        {
            var x = Activations(random, tokens, n);
            using var onCpu = devices.Cpu.UploadNew<BFloat16>(x, tokens, n);
            using var onGpu = devices.Gpu.UploadNew<BFloat16>(x, tokens, n);
            devices.Cpu.AccumulateAbsMax(onCpu, cpuMax);
            devices.Gpu.AccumulateAbsMax(onGpu, gpuMax);
        }

        var expected = cpuMax.ToArray<float>();
        var actual = gpuMax.ToArray<float>();
        for (int c = 0; c < n; c++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[c]) == BitConverter.SingleToInt32Bits(actual[c]),
                $"bf16 AbsMax n={n} (seed {seed}): column {c} is {actual[c]:R} on the GPU, {expected[c]:R} on the CPU");
        }
    }

    [GpuTheory]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(4096)]
    public void GramOfBFloat16MatchesTheCpuDeviceOnEveryPath(int n)
    {
        var random = Compare.Fresh(out int seed);
        var batches = Batches.Select(tokens => Activations(random, tokens, n)).ToArray();
        var expected = Gram(devices.Cpu, batches, n);
        var gpu = devices.Gpu;
        var paths = new List<(string Name, Action<CudaDevice> Configure)>
        {
            ("chosen", _ => { }),
            ("1 panel", d => d.GramPanels = 1),
            ("2 panels", d => d.GramPanels = 2),
            ("8 panels", d => d.GramPanels = 8),
            ("own kernel", d => d.ForceOwnGramKernel = true),
        };
        foreach (var (name, configure) in paths)
        {
            configure(gpu);
            try
            {
                var actual = Gram(gpu, batches, n);
                output.WriteLine($"n={n}, {name}: {gpu.LastGramPath}");
                GramClose(expected, actual, n, Bf16GramTolerance, $"bf16 Gram n={n}, {name} (seed {seed})");
            }
            finally
            {
                gpu.GramPanels = 0;
                gpu.ForceOwnGramKernel = false;
            }
        }

        // The Float32 (fp64) path after the bf16 one has made its partial: unchanged, to double precision.
        var floats = batches.Select(x => x.Select(v => v.ToSingle()).ToArray()).ToArray();
        var expectedFp64 = Gram(devices.Cpu, floats, n);
        var actualFp64 = Gram(gpu, floats, n);
        output.WriteLine($"n={n}, Float32 x: {gpu.LastGramPath}");
        GramClose(expectedFp64, actualFp64, n, Fp64GramTolerance, $"fp64 Gram n={n} after bf16 ones (seed {seed})");
    }

    [GpuFact]
    public void TheBFloat16GramPartialGrowsWithAWiderX()
    {
        var random = Compare.Fresh(out int seed);
        foreach (int n in new[] { 256, 1024, 128 })
        {
            var batches = new[] { Activations(random, 300, n), Activations(random, 5, n) };
            GramClose(Gram(devices.Cpu, batches, n), Gram(devices.Gpu, batches, n), n, Bf16GramTolerance, $"bf16 Gram n={n} (seed {seed})");
        }
    }

    private static double[] Gram<T>(IComputeDevice device, T[][] batches, int n) where T : unmanaged
    {
        using var gram = device.Allocate(TensorType.Float64, n, n);
        foreach (var x in batches)
        {
            using var input = device.UploadNew<T>(x, x.Length / n, n);
            device.AccumulateGram(input, gram);
        }

        return gram.ToArray<double>();
    }

    // Upper triangle only (the contract leaves the rest); each element judged on sqrt(G_ii·G_jj), which bounds Σ|x_i·x_j|.
    private static void GramClose(double[] expected, double[] actual, int n, double tolerance, string what)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                double scale = Math.Sqrt(expected[i * n + i] * expected[j * n + j]) + 1e-300;
                double error = Math.Abs(actual[i * n + j] - expected[i * n + j]) / scale;
                Assert.True(error <= tolerance,
                    $"{what}: [{i}, {j}] is {actual[i * n + j]:R} on the GPU, {expected[i * n + j]:R} on the CPU: relative error {error:E2} > {tolerance:E0}");
            }
        }
    }

    [GpuFact]
    public void EmbedFromABFloat16TableIsExactlyTheCpuDevices()
    {
        const int vocabulary = 1000, width = 4096;
        var random = Compare.Fresh(out _);
        var table = Compare.Floats(random, vocabulary * width, 2f).Select(BFloat16.FromSingle).ToArray();
        var ids = Enumerable.Range(0, 77).Select(_ => random.Next(vocabulary)).ToArray();
        float[] Embed(IComputeDevice device)
        {
            using var rows = device.UploadNew<BFloat16>(table, vocabulary, width);
            using var tokens = device.UploadVector<int>(ids);
            using var result = device.Allocate(TensorType.Float32, ids.Length, width);
            device.Embed(tokens, rows, result);
            return result.ToArray<float>();
        }

        var expected = Embed(devices.Cpu);
        var actual = Embed(devices.Gpu);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
    }

    // Activations with per-channel offsets and a few outlier channels, rounded to bf16 as a bf16 model's inputs are.
    private static BFloat16[] Activations(Random random, int tokens, int n)
    {
        var mean = new float[n];
        var scale = new float[n];
        for (int c = 0; c < n; c++)
        {
            mean[c] = (float)(random.NextDouble() - 0.5);
            scale[c] = (float)(0.1 + 2 * random.NextDouble()) * (random.NextDouble() < 0.01 ? 50 : 1);
        }

        var x = new BFloat16[tokens * n];
        for (int t = 0; t < tokens; t++)
        {
            for (int c = 0; c < n; c++)
            {
                x[t * n + c] = BFloat16.FromSingle(mean[c] + scale[c] * (float)(random.NextDouble() * 2 - 1));
            }
        }

        return x;
    }
}
