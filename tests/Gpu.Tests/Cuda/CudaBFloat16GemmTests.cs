using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The GEMM side of the CUDA device with BFloat16 activations (IComputeDevice, "Activations"), on fresh random inputs:
/// QuantizePerToken of a bf16 x equals that of the widened x; every int8 path (GEMV, cuBLASLt + dequantize, the own
/// fallback + dequantize, and each own tensor-core kernel and tile) writes into a bf16 output the Float32 output of the
/// same path rounded once, with and without the residual add, alone and grouped; SwiGLU in the epilogue with bf16
/// outputs equals the separate bf16 calls; MatMul with bf16 x, weight and output stays within bf16 rounding of the
/// Float32 path; and the bf16 results equal the CPU device's (widen, the Float32 op, narrow).
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaBFloat16GemmTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    // CPU references only up to this many multiply-adds, so a case takes seconds, not minutes, on the CPU.
    private const long CpuWork = 1L << 30;

    // A bf16 result against a float one computed differently (cuBLASLt's bf16 D, the CPU's SiLU): one bf16 step is at
    // most 2⁻⁷ of the value, and Compare.Close measures against |expected| + the tensor's rms.
    private const double Bf16Tolerance = 1e-2;

    [GpuTheory]
    [InlineData(1, 4096)] // the vector kernel, one row
    [InlineData(300, 4096)] // the vector kernel with rows enough to fill the GPU
    [InlineData(7, 14336)] // the vector kernel past its register cache
    [InlineData(64, 36)] // the vector kernel, narrow rows
    [InlineData(67, 1001)] // a width not a multiple of 4: the scalar kernel
    public void QuantizePerTokenOfBf16EqualsTheWidenedRowsBitForBit(int tokens, int width)
    {
        var random = Compare.Fresh(out int seed);
        var x = Compare.Floats(random, tokens * width, 3f);
        // Row 0 of several: all zeros (scale 1e-8); the last row: one outlier, so most codes round to 0 or ±1.
        if (tokens > 1)
        {
            Array.Clear(x, 0, width);
        }

        x[(tokens - 1) * width + width / 2] = 900f;
        var exact = RoundedToBf16(x);
        string what = $"T {tokens}, width {width} (seed {seed})";

        var (expectedCodes, expectedScales) = Quantize(devices.Gpu, exact, tokens, width, TensorType.Float32);
        var (codes, scales) = Quantize(devices.Gpu, exact, tokens, width, TensorType.BFloat16);
        Compare.SameBits(expectedScales, scales, "GPU bf16 scales vs Float32 scales, " + what);
        SameCodes(expectedCodes, codes, "GPU bf16 codes vs Float32 codes, " + what);

        var (cpuCodes, cpuScales) = Quantize(devices.Cpu, exact, tokens, width, TensorType.BFloat16);
        Compare.SameBits(cpuScales, scales, "GPU vs CPU bf16 scales, " + what);
        SameCodes(cpuCodes, codes, "GPU vs CPU bf16 codes, " + what);
    }

    private static (sbyte[] Codes, float[] Scales) Quantize(IComputeDevice device, float[] x, int tokens, int width, TensorType type)
    {
        using var input = device.UploadFloats(x, tokens, width, type);
        using var codes = device.Allocate(TensorType.Int8, tokens, width);
        using var scales = device.Allocate(TensorType.Float32, tokens, 1);
        device.QuantizePerToken(input, codes, scales);
        return (codes.ToArray<sbyte>(), scales.ToArray<float>());
    }

    private static void SameCodes(sbyte[] expected, sbyte[] actual, string what)
    {
        int mismatch = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(mismatch == expected.Length && expected.Length == actual.Length,
            $"{what}: code {mismatch} differs: expected {expected.ElementAtOrDefault(mismatch)}, got {actual.ElementAtOrDefault(mismatch)}");
    }

    /// <summary>
    /// (T, K, N): Llama-3-8B's linears (q/o 4096 → 4096, k/v 4096 → 1024, gate/up 4096 → 14336, down 14336 → 4096) at
    /// decode and prefill token counts; and odd shapes: N odd (the epilogues' single stores) with K a multiple of 16, and
    /// K and N off every vector width (the byte-load GEMV, cuBLASLt refusing, the own fallback).
    /// </summary>
    public static TheoryData<int, int, int> Int8Cases() => new()
    {
        { 1, 4096, 4096 }, { 8, 4096, 14336 }, { 64, 14336, 4096 }, { 300, 4096, 4096 }, { 512, 4096, 1024 }, { 2048, 4096, 1024 },
        { 3, 272, 201 }, { 300, 272, 201 }, { 5, 1000, 1001 }, { 77, 1000, 1001 },
    };

    [GpuTheory]
    [MemberData(nameof(Int8Cases))]
    public void EveryInt8PathWritesTheFloat32OutputRoundedToBf16(int tokens, int inner, int outputs)
    {
        var random = Compare.Fresh(out int seed);
        using var gpuCase = new Int8Case(devices.Gpu, random, tokens, inner, outputs);
        using var cpuCase = (long)tokens * inner * outputs <= CpuWork ? new Int8Case(devices.Cpu, gpuCase) : null;
        var gpu = devices.Gpu;
        int minimum = gpu.Int8MmaMinTokens;
        var ran = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (bool withBias in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    string what = $"T {tokens}, K {inner}, N {outputs}, bias {withBias}, accumulate {accumulate} (seed {seed})";
                    float[]? cpu = cpuCase?.Run(TensorType.BFloat16, withBias, accumulate);
                    foreach (string path in Int8Paths(gpu, tokens, inner))
                    {
                        var single = gpuCase.Run(TensorType.Float32, withBias, accumulate);
                        string kernel = Ran(gpu, path);
                        var bf16 = gpuCase.Run(TensorType.BFloat16, withBias, accumulate);
                        Assert.Equal(kernel, Ran(gpu, path));
                        ran.Add(kernel);
                        Compare.SameBits(RoundedToBf16(single), bf16, $"{kernel}: bf16 output vs its Float32 output rounded, " + what);
                        if (cpu is not null)
                        {
                            Compare.SameBits(cpu, bf16, $"{kernel}: GPU vs CPU bf16 output, " + what);
                        }
                    }
                }
            }
        }
        finally
        {
            gpu.Int8MmaMinTokens = minimum;
            Restore(gpu);
        }

        output.WriteLine($"T {tokens}, K {inner}, N {outputs}: {string.Join("; ", ran)}");
    }

    /// <summary>
    /// q, k and v in one call with bf16 outputs (the first with a bias, the second adding to a residual), on every path;
    /// four projections take two launches of the own GEMM. Each output is its Float32 twin's rounded, and the CPU's.
    /// </summary>
    [GpuTheory]
    [InlineData(8, 1024, new[] { 512, 128, 128 })]
    [InlineData(300, 1024, new[] { 512, 128, 128 })]
    [InlineData(140, 528, new[] { 130, 64, 256, 40 })]
    public void GroupedProjectionsWriteBf16OutputsRoundedOnce(int tokens, int inner, int[] widths)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var tokenScales = Scales(random, tokens, 0.05f);
        var weights = widths.Select(n => Compare.Codes(random, n * inner)).ToArray();
        var weightScales = widths.Select(n => Scales(random, n, 0.01f)).ToArray();
        var biases = widths.Select(n => Compare.Floats(random, n)).ToArray();
        var starts = widths.Select(n => RoundedToBf16(Compare.Floats(random, tokens * n, 3f))).ToArray();
        var gpu = devices.Gpu;
        var cpu = Run(devices.Cpu, TensorType.BFloat16);
        int minimum = gpu.Int8MmaMinTokens;
        try
        {
            foreach (string path in Int8Paths(gpu, tokens, inner))
            {
                var single = Run(gpu, TensorType.Float32);
                var bf16 = Run(gpu, TensorType.BFloat16);
                string kernel = Ran(gpu, path);
                for (int i = 0; i < widths.Length; i++)
                {
                    string what = $"{kernel}: projection {i} of {widths.Length} (N {widths[i]}), T {tokens}, K {inner} (seed {seed})";
                    Compare.SameBits(RoundedToBf16(single[i]), bf16[i], "bf16 vs Float32 rounded, " + what);
                    Compare.SameBits(cpu[i], bf16[i], "GPU vs CPU, " + what);
                }
            }
        }
        finally
        {
            gpu.Int8MmaMinTokens = minimum;
            Restore(gpu);
        }

        float[][] Run(IComputeDevice device, TensorType type)
        {
            using var codes = device.UploadNew<sbyte>(q, tokens, inner);
            using var scales = device.UploadNew<float>(tokenScales, tokens, 1);
            var tensors = new List<DeviceTensor>();
            try
            {
                var projections = new Int8Projection[widths.Length];
                for (int i = 0; i < widths.Length; i++)
                {
                    var weight = device.UploadNew<sbyte>(weights[i], widths[i], inner);
                    var ws = device.UploadVector<float>(weightScales[i]);
                    var bias = i == 0 ? device.UploadVector<float>(biases[i]) : null;
                    var y = device.UploadFloats(starts[i], tokens, widths[i], type);
                    tensors.AddRange([weight, ws, y]);
                    if (bias is not null)
                    {
                        tensors.Add(bias);
                    }

                    projections[i] = new Int8Projection(weight, ws, bias, y, Accumulate: i == 1);
                }

                device.MatMulInt8(codes, scales, projections);
                return projections.Select(p => p.Output.ToFloats()).ToArray();
            }
            finally
            {
                tensors.ForEach(t => t.Dispose());
            }
        }
    }

    /// <summary>The outputs of one grouped call, and gate and up of SwiGLU, must share one type; the error names the call.</summary>
    [GpuFact]
    public void OutputsOfOneCallMustShareOneType()
    {
        var gpu = devices.Gpu;
        using var codes = gpu.Allocate(TensorType.Int8, 4, 64);
        using var scales = gpu.Allocate(TensorType.Float32, 4, 1);
        using var weight = gpu.Allocate(TensorType.Int8, 32, 64);
        using var ws = gpu.Allocate(TensorType.Float32, 1, 32);
        using var single = gpu.Allocate(TensorType.Float32, 4, 32);
        using var bf16 = gpu.Allocate(TensorType.BFloat16, 4, 32);
        var grouped = Assert.Throws<ArgumentException>(() =>
            gpu.MatMulInt8(codes, scales, [new Int8Projection(weight, ws, null, single), new Int8Projection(weight, ws, null, bf16)]));
        Assert.Contains(nameof(IComputeDevice.MatMulInt8), grouped.Message);
        var swiGlu = Assert.Throws<ArgumentException>(() =>
            gpu.MatMulInt8SwiGlu(codes, scales, new Int8Projection(weight, ws, null, bf16), new Int8Projection(weight, ws, null, single)));
        Assert.Contains(nameof(IComputeDevice.MatMulInt8SwiGlu), swiGlu.Message);
    }

    /// <summary>
    /// gate and up with SwiGLU in the epilogue, bf16 outputs: equal bit for bit to the separate calls on bf16 tensors
    /// (both GEMMs into bf16 gate and up on cuBLASLt, then SiluMul), on every own kernel and on the unfused paths
    /// (GEMV, cuBLASLt); the up output, scratch, untouched by the fused kernels; the CPU's within bf16 rounding (its
    /// SiLU rounds differently).
    /// </summary>
    [GpuTheory]
    [InlineData(8, 4096, 1024)]
    [InlineData(64, 4096, 14336)]
    [InlineData(300, 272, 100)]
    [InlineData(1024, 1040, 64)]
    public void SwiGluWithBf16OutputsEqualsTheSeparateBf16Calls(int tokens, int inner, int outputs)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var tokenScales = Scales(random, tokens, 0.002f);
        var gateCodes = Compare.Codes(random, outputs * inner);
        var upCodes = Compare.Codes(random, outputs * inner);
        var gateScales = Scales(random, outputs, 0.002f);
        var upScales = Scales(random, outputs, 0.002f);
        var gateBias = Compare.Floats(random, outputs);
        var gpu = devices.Gpu;
        string what = $"T {tokens}, K {inner}, N {outputs} (seed {seed})";
        int minimum = gpu.Int8MmaMinTokens;
        try
        {
            gpu.Int8Mma = false;
            var separate = Run(gpu, fused: false).Gate;
            Assert.DoesNotContain("mma", gpu.LastInt8GemmPath);
            var cpu = (long)tokens * inner * outputs * 2 <= CpuWork ? Run(devices.Cpu, fused: false).Gate : null;
            foreach (string path in Int8Paths(gpu, tokens, inner, swiGlu: true))
            {
                var (fused, upAfter) = Run(gpu, fused: true);
                string kernel = Ran(gpu, path);
                if (path is not (Gemv or CublasLt))
                {
                    Assert.All(upAfter, value => Assert.Equal(-5f, value));
                }

                Compare.SameBits(separate, fused, $"{kernel} SwiGLU, bf16, vs the separate bf16 calls, " + what);
                if (cpu is not null)
                {
                    Compare.Close(cpu, fused, Bf16Tolerance, $"{kernel} SwiGLU, bf16, vs the CPU, " + what);
                }
            }
        }
        finally
        {
            gpu.Int8MmaMinTokens = minimum;
            Restore(gpu);
        }

        (float[] Gate, float[] Up) Run(IComputeDevice device, bool fused)
        {
            using var codes = device.UploadNew<sbyte>(q, tokens, inner);
            using var scales = device.UploadNew<float>(tokenScales, tokens, 1);
            using var gw = device.UploadNew<sbyte>(gateCodes, outputs, inner);
            using var uw = device.UploadNew<sbyte>(upCodes, outputs, inner);
            using var gs = device.UploadVector<float>(gateScales);
            using var us = device.UploadVector<float>(upScales);
            using var gb = device.UploadVector<float>(gateBias);
            using var gate = device.Allocate(TensorType.BFloat16, tokens, outputs);
            using var up = device.UploadFloats(Enumerable.Repeat(-5f, tokens * outputs).ToArray(), tokens, outputs, TensorType.BFloat16);
            var (g, u) = (new Int8Projection(gw, gs, gb, gate), new Int8Projection(uw, us, null, up));
            if (fused)
            {
                device.MatMulInt8SwiGlu(codes, scales, g, u);
            }
            else
            {
                device.MatMulInt8(codes, scales, [g, u]);
                device.SiluMul(gate, up, gate);
            }

            return (gate.ToFloats(), up.ToFloats());
        }
    }

    /// <summary>
    /// MatMul with each of x, weight and output Float32 or BFloat16, with and without a bias. A bf16 x is the Float32 x
    /// it widens to, so a Float32 output is bit for bit the same; a bf16 output that the device narrows from fp32 sums (a
    /// Float32 weight, or a bias) is the Float32 output rounded once; one that the GEMM writes itself (cuBLASLt's bf16 D)
    /// is within bf16 rounding of it. Every result is within tolerance of the CPU's.
    /// </summary>
    [GpuTheory]
    [InlineData(1, 4096, 4096)]
    [InlineData(37, 4096, 1024)]
    [InlineData(300, 1024, 512)]
    [InlineData(7, 95, 41)]
    [InlineData(64, 96, 40)]
    public void MatMulOfBf16ActivationsIsTheFloat32PathRounded(int tokens, int inner, int outputs)
    {
        var random = Compare.Fresh(out int seed);
        var x = RoundedToBf16(Compare.Floats(random, tokens * inner));
        var w = Compare.Floats(random, outputs * inner, 0.05f);
        var b = Compare.Floats(random, outputs);
        var gpu = devices.Gpu;
        TensorType[] types = [TensorType.Float32, TensorType.BFloat16];
        foreach (var weightType in types)
        {
            foreach (bool withBias in new[] { false, true })
            {
                var reference = Run(gpu, TensorType.Float32, weightType, withBias, TensorType.Float32);
                foreach (var xType in types)
                {
                    foreach (var outputType in types)
                    {
                        string what = $"x {xType}, weight {weightType}, output {outputType}, bias {withBias}, T {tokens}, K {inner}, N {outputs} (seed {seed})";
                        var actual = Run(gpu, xType, weightType, withBias, outputType);
                        string path = gpu.LastMatMulPath;
                        bool writtenByTheGemm = outputType == TensorType.BFloat16 && weightType == TensorType.BFloat16 && !withBias;
                        if (outputType == TensorType.Float32)
                        {
                            Compare.SameBits(reference, actual, $"{path}: vs x widened to Float32, " + what);
                        }
                        else if (writtenByTheGemm)
                        {
                            // cuBLASLt's bf16 D (or, where it refuses a bf16 D, the fallback kernel, whose float sums
                            // need not be cuBLASLt's fp32 ones).
                            Compare.Close(reference, actual, Bf16Tolerance, $"{path}: bf16 written by the GEMM vs the Float32 output, " + what);
                        }
                        else
                        {
                            Compare.SameBits(RoundedToBf16(reference), actual, $"{path}: vs the Float32 output rounded, " + what);
                        }

                        var cpu = Run(devices.Cpu, xType, weightType, withBias, outputType);
                        Compare.Close(cpu, actual, outputType == TensorType.BFloat16 ? Bf16Tolerance : 1e-4, $"{path}: GPU vs CPU, " + what);
                    }
                }
            }
        }

        float[] Run(IComputeDevice device, TensorType xType, TensorType weightType, bool withBias, TensorType outputType)
        {
            using var input = device.UploadFloats(x, tokens, inner, xType);
            using var weight = device.UploadFloats(w, outputs, inner, weightType);
            using var bias = withBias ? device.UploadVector<float>(b) : null;
            using var y = device.UploadFloats(Enumerable.Repeat(7f, tokens * outputs).ToArray(), tokens, outputs, outputType);
            device.MatMul(input, weight, bias, y);
            return y.ToFloats();
        }
    }

    private const string Gemv = "gemv", CublasLt = "cuBLASLt + dequantize", Fallback = "own fallback + dequantize";

    /// <summary>
    /// Every int8 path that can run (T, K), each set up in turn as the enumeration reaches it: the GEMV (T ≤ 8);
    /// cuBLASLt + dequantize; this backend's fallback GEMM + dequantize; then, with K a multiple of 16 and the own
    /// GEMM allowed from T tokens, on Hopper the TMA-fed GEMM with the tile the device picks and with each tile, the
    /// cp.async-fed wgmma GEMM with each tile height, then mma.sync (elsewhere only mma.sync). With
    /// <paramref name="swiGlu"/> the fallback is left out (the unfused SwiGLU runs cuBLASLt like the reference).
    /// Callers restore the device with <see cref="Restore"/> and Int8MmaMinTokens afterwards.
    /// </summary>
    private static IEnumerable<string> Int8Paths(CudaDevice gpu, int tokens, int inner, bool swiGlu = false)
    {
        if (tokens <= CudaDevice.Int8GemvMaxTokens)
        {
            Restore(gpu);
            yield return Gemv;
        }

        Restore(gpu);
        gpu.Int8Gemv = false;
        gpu.Int8Mma = false;
        yield return CublasLt;
        if (!swiGlu)
        {
            gpu.ForceOwnInt8Gemm = true;
            yield return Fallback;
        }

        if (inner % 16 != 0)
        {
            yield break;
        }

        gpu.ForceOwnInt8Gemm = false;
        gpu.Int8Mma = true;
        gpu.Int8MmaMinTokens = tokens;
        foreach (string path in OwnInt8Kernels.Each(gpu, swiGlu))
        {
            yield return path;
        }
    }

    /// <summary>The path that ran last, with its tile, after checking it is the one the enumeration set up.</summary>
    private static string Ran(CudaDevice gpu, string path)
    {
        string last = gpu.LastInt8GemmPath;
        switch (path)
        {
            case Gemv:
                Assert.True(last is CudaDevice.Int8GemvPath or CudaDevice.Int8GemvBytesPath, $"expected the GEMV, ran {last}");
                return last;
            case CublasLt:
                // cuBLASLt refuses K or N off a multiple of 4, and the fallback runs instead.
                Assert.True(last == "cublasLt" || last.StartsWith("own kernel", StringComparison.Ordinal), $"expected cuBLASLt, ran {last}");
                return $"{last} + dequantize";
            case Fallback:
                Assert.StartsWith("own kernel", last);
                return $"{last} + dequantize";
            default:
                Assert.Equal(path, last);
                return last == CudaDevice.Int8TmaPath ? $"{last} ({gpu.LastInt8TmaTile})" : $"{last} ({gpu.LastInt8MmaRows} rows)";
        }
    }

    private static void Restore(CudaDevice gpu)
    {
        gpu.Int8Gemv = true;
        gpu.Int8Mma = true;
        gpu.ForceOwnInt8Gemm = false;
        gpu.Int8Tma = true;
        gpu.Int8TmaTileOverride = null;
        gpu.Int8Wgmma = true;
        gpu.Int8MmaRows = 0;
    }

    /// <summary>
    /// One W8A8 linear's operands on one device, uploaded once: codes, token scales, weight, weight scales, a bias, and
    /// a residual exact in bf16 (so a Float32 and a BFloat16 output start from the same values).
    /// </summary>
    private sealed class Int8Case : IDisposable
    {
        private readonly IComputeDevice _device;
        private readonly DeviceTensor _codes, _tokenScales, _weight, _weightScales, _bias;
        private readonly float[] _residual;
        private readonly sbyte[] _q, _w;
        private readonly float[] _ts, _ws, _b;

        public Int8Case(IComputeDevice device, Random random, int tokens, int inner, int outputs)
            : this(device, tokens, inner, outputs, Compare.Codes(random, tokens * inner), Compare.Codes(random, outputs * inner),
                Scales(random, tokens, 0.05f), Scales(random, outputs, 0.01f), Compare.Floats(random, outputs),
                RoundedToBf16(Compare.Floats(random, tokens * outputs, 3f)))
        {
        }

        /// <summary>The same operands as <paramref name="other"/>'s, on <paramref name="device"/>.</summary>
        public Int8Case(IComputeDevice device, Int8Case other)
            : this(device, other.Tokens, other.Inner, other.Outputs, other._q, other._w, other._ts, other._ws, other._b, other._residual)
        {
        }

        private Int8Case(IComputeDevice device, int tokens, int inner, int outputs, sbyte[] q, sbyte[] w, float[] ts, float[] ws, float[] b, float[] residual)
        {
            (_device, Tokens, Inner, Outputs, _q, _w, _ts, _ws, _b, _residual) = (device, tokens, inner, outputs, q, w, ts, ws, b, residual);
            // The extremes: token 0 all −127 against a row of 127, a sum of −K·127².
            Array.Fill(q, (sbyte)-127, 0, inner);
            Array.Fill(w, (sbyte)127, 0, inner);
            _codes = device.UploadNew<sbyte>(q, tokens, inner);
            _tokenScales = device.UploadNew<float>(ts, tokens, 1);
            _weight = device.UploadNew<sbyte>(w, outputs, inner);
            _weightScales = device.UploadVector<float>(ws);
            _bias = device.UploadVector<float>(b);
        }

        public int Tokens { get; }

        public int Inner { get; }

        public int Outputs { get; }

        /// <summary>MatMulInt8 into a fresh output of <paramref name="type"/> that starts as the residual; its values as floats.</summary>
        public float[] Run(TensorType type, bool withBias, bool accumulate)
        {
            using var y = _device.UploadFloats(_residual, Tokens, Outputs, type);
            _device.MatMulInt8(_codes, _tokenScales, _weight, _weightScales, withBias ? _bias : null, y, accumulate);
            return y.ToFloats();
        }

        public void Dispose()
        {
            _codes.Dispose();
            _tokenScales.Dispose();
            _weight.Dispose();
            _weightScales.Dispose();
            _bias.Dispose();
        }
    }

    /// <summary>Each value rounded to the nearest bf16 (ties to even) and widened back: what a bf16 tensor of them holds.</summary>
    private static float[] RoundedToBf16(float[] values) => values.Select(v => BFloat16.FromSingle(v).ToSingle()).ToArray();

    private static float[] Scales(Random random, int count, float scale) =>
        Compare.Floats(random, count, scale).Select(s => MathF.Abs(s) + scale * 1e-3f).ToArray();
}
