using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// The own int8 tensor-core GEMMs with their fused epilogue (int8_wgmma_gemm.cu on Hopper, int8_mma_gemm.cu), which <see cref="CudaDevice.MatMulInt8(DeviceTensor, DeviceTensor, ReadOnlySpan{Int8Projection})"/>
/// runs from <see cref="CudaDevice.Int8MmaMinTokens"/> tokens: bit for bit equal to cuBLASLt + dequantize and to the
/// CPU device, alone and grouped, with bias and with the residual add; and its timings beside cuBLASLt's, printed.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaInt8MmaTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    // (T, K, N): whole tiles; T, N and K off the tile sizes (128 rows or 64, 128 columns, 128 bytes of K); one 16-byte
    // chunk of K; Llama-3-8B's o and a down-shaped K of 14336; few tokens past the GEMV (the mma forced down to them).
    public static TheoryData<int, int, int> Cases() => new()
    {
        { 256, 512, 256 }, { 131, 272, 200 }, { 300, 144, 129 }, { 129, 16, 8 }, { 512, 4096, 1024 }, { 200, 14336, 136 },
        { 9, 4096, 384 }, { 64, 1040, 130 }, { 1000, 528, 1000 },
    };

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void TheMmaEqualsCublasLtAndTheCpuBitForBit(int tokens, int inner, int outputs)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var w = Compare.Codes(random, outputs * inner);
        // The extremes: token 0 all −127 against a row of 127 and a row of −127, sums of ±K·127².
        Array.Fill(q, (sbyte)-127, 0, inner);
        Array.Fill(w, (sbyte)127, 0, inner);
        Array.Fill(w, (sbyte)-127, inner, inner);
        var tokenScales = Scales(random, tokens, 0.05f);
        var weightScales = Scales(random, outputs, 0.01f);
        var b = Compare.Floats(random, outputs);
        var residual = Compare.Floats(random, tokens * outputs, 3f);
        var gpu = devices.Gpu;
        int minimum = gpu.Int8MmaMinTokens;
        gpu.Int8MmaMinTokens = tokens;
        try
        {
            foreach (bool withBias in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    string what = $"T {tokens}, K {inner}, N {outputs}, bias {withBias}, accumulate {accumulate} (seed {seed})";
                    gpu.Int8Mma = false;
                    float[] cublas;
                    try
                    {
                        cublas = Run(gpu, withBias, accumulate);
                        Assert.DoesNotContain("mma", gpu.LastInt8GemmPath);
                    }
                    finally
                    {
                        gpu.Int8Mma = true;
                    }

                    float[]? cpu = (long)tokens * inner * outputs <= 1L << 31 ? Run(devices.Cpu, withBias, accumulate) : null;
                    foreach (string path in OwnInt8Kernels.Each(gpu))
                    {
                        string kernel = path;
                        var own = Run(gpu, withBias, accumulate);
                        Assert.Equal(kernel, gpu.LastInt8GemmPath);
                        kernel = Ran(gpu);
                        Compare.SameBits(cublas, own, $"{kernel} vs cuBLASLt + dequantize, " + what);
                        if (cpu is not null)
                        {
                            Compare.SameBits(cpu, own, $"{kernel} vs CPU, " + what);
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

        float[] Run(IComputeDevice device, bool withBias, bool accumulate)
        {
            using var codes = device.UploadNew<sbyte>(q, tokens, inner);
            using var scales = device.UploadNew<float>(tokenScales, tokens, 1);
            using var weight = device.UploadNew<sbyte>(w, outputs, inner);
            using var ws = device.UploadVector<float>(weightScales);
            using var bt = withBias ? device.UploadVector<float>(b) : null;
            using var y = device.UploadNew<float>(residual, tokens, outputs);
            device.MatMulInt8(codes, scales, weight, ws, bt, y, accumulate);
            return y.ToArray<float>();
        }
    }

    /// <summary>
    /// q, k and v (or gate and up) in one launch: each output equals its own CPU call, with widths that end mid-tile and
    /// one output added to a residual; four projections take two launches.
    /// </summary>
    [GpuTheory]
    [InlineData(256, 1024, new[] { 512, 128, 128 })]
    [InlineData(300, 272, new[] { 200, 72, 72 })]
    [InlineData(513, 4096, new[] { 1000, 1000 })]
    [InlineData(140, 528, new[] { 130, 64, 256, 40 })]
    public void GroupedProjectionsEqualTheirOwnCalls(int tokens, int inner, int[] widths)
    {
        var random = Compare.Fresh(out int seed);
        var q = Compare.Codes(random, tokens * inner);
        var tokenScales = Scales(random, tokens, 0.05f);
        var weights = widths.Select(n => Compare.Codes(random, n * inner)).ToArray();
        var weightScales = widths.Select(n => Scales(random, n, 0.01f)).ToArray();
        var biases = widths.Select(n => Compare.Floats(random, n)).ToArray();
        var starts = widths.Select(n => Compare.Floats(random, tokens * n, 2f)).ToArray();
        var gpu = devices.Gpu;
        var cpu = Run(devices.Cpu, grouped: false);
        try
        {
            foreach (string kernel in OwnInt8Kernels.Each(gpu))
            {
                var grouped = Run(gpu, grouped: true);
                Assert.Equal(kernel, gpu.LastInt8GemmPath);
                for (int i = 0; i < widths.Length; i++)
                {
                    Compare.SameBits(cpu[i], grouped[i], $"{Ran(gpu)}: projection {i} of {widths.Length} (N {widths[i]}), T {tokens}, K {inner} (seed {seed})");
                }
            }
        }
        finally
        {
            Restore(gpu);
        }

        float[][] Run(IComputeDevice device, bool grouped)
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
                    // The first has a bias, the second adds to its output; the rest write plainly.
                    var bias = i == 0 ? device.UploadVector<float>(biases[i]) : null;
                    var y = device.UploadNew<float>(starts[i], tokens, widths[i]);
                    tensors.AddRange([weight, ws, y]);
                    if (bias is not null)
                    {
                        tensors.Add(bias);
                    }

                    projections[i] = new Int8Projection(weight, ws, bias, y, Accumulate: i == 1);
                }

                if (grouped)
                {
                    device.MatMulInt8(codes, scales, projections);
                }
                else
                {
                    foreach (var p in projections)
                    {
                        device.MatMulInt8(codes, scales, p.Weight, p.WeightScales, p.Bias, p.Output, p.Accumulate);
                    }
                }

                return projections.Select(p => p.Output.ToArray<float>()).ToArray();
            }
            finally
            {
                tensors.ForEach(t => t.Dispose());
            }
        }
    }

    /// <summary>
    /// gate and up with SwiGLU in the GEMM's epilogue equal, bit for bit, cuBLASLt's two GEMMs + dequantize and the
    /// separate silu_mul on this GPU, and the CPU device's within float rounding (its SiLU rounds differently); the up
    /// output, scratch, is left untouched.
    /// </summary>
    [GpuTheory]
    [InlineData(256, 512, 256)]
    [InlineData(300, 272, 100)]
    [InlineData(129, 4096, 1000)]
    [InlineData(1024, 1040, 64)]
    public void SwiGluInTheEpilogueEqualsTheSeparatePasses(int tokens, int inner, int outputs)
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
        gpu.Int8Mma = false;
        float[] separate;
        try
        {
            separate = Run(gpu).Gate;
            Assert.DoesNotContain("mma", gpu.LastInt8GemmPath);
        }
        finally
        {
            gpu.Int8Mma = true;
        }

        string what = $"T {tokens}, K {inner}, N {outputs} (seed {seed})";
        var cpu = Run(devices.Cpu).Gate;
        try
        {
            foreach (string kernel in OwnInt8Kernels.Each(gpu, swiGlu: true))
            {
                var (fused, upAfter) = Run(gpu);
                Assert.Equal(kernel, gpu.LastInt8GemmPath);
                Assert.All(upAfter, value => Assert.Equal(-5f, value));
                Compare.SameBits(separate, fused, $"{Ran(gpu)} SwiGLU epilogue vs cuBLASLt + silu_mul, " + what);
                Compare.Close(cpu, fused, 1e-5, $"{Ran(gpu)} SwiGLU epilogue vs CPU, " + what);
            }
        }
        finally
        {
            Restore(gpu);
        }

        (float[] Gate, float[] Up) Run(IComputeDevice device)
        {
            using var codes = device.UploadNew<sbyte>(q, tokens, inner);
            using var scales = device.UploadNew<float>(tokenScales, tokens, 1);
            using var gw = device.UploadNew<sbyte>(gateCodes, outputs, inner);
            using var uw = device.UploadNew<sbyte>(upCodes, outputs, inner);
            using var gs = device.UploadVector<float>(gateScales);
            using var us = device.UploadVector<float>(upScales);
            using var gb = device.UploadVector<float>(gateBias);
            using var gate = device.Allocate(TensorType.Float32, tokens, outputs);
            using var up = device.UploadNew<float>(Enumerable.Repeat(-5f, tokens * outputs).ToArray(), tokens, outputs);
            device.MatMulInt8SwiGlu(codes, scales, new Int8Projection(gw, gs, gb, gate), new Int8Projection(uw, us, null, up));
            return (gate.ToArray<float>(), up.ToArray<float>());
        }
    }

    /// <summary>
    /// The W8A8 linear (MatMulInt8 of pre-quantized codes, no bias) at Llama-3-8B's shapes as the decoder layer runs them:
    /// q/k/v (4096 → 4096, 1024, 1024) and gate/up (4096 → 14336 twice) grouped, o and down adding to the residual. µs
    /// a call (mean over 50 calls between two CUDA events, after warm-up) on the own GEMM and on cuBLASLt + dequantize
    /// (+ the separate residual add); printed, not asserted. At 16 to 64 tokens the own GEMM is forced, to show where it
    /// starts to pay (<see cref="CudaDevice.Int8MmaMinTokens"/>).
    /// </summary>
    [GpuFact]
    public void MmaTimingsAtLlama3_8BShapes()
    {
        (string Name, int Inner, int[] Widths, bool Residual)[] ops =
        [
            ("qkv", 4096, [4096, 1024, 1024], false), ("o", 4096, [4096], true), ("gate_up", 4096, [14336, 14336], false),
            ("down", 14336, [4096], true),
        ];
        var gpu = devices.Gpu;
        Compare.SpinUp(gpu);
        var lines = new List<string> { "TIMING MMA | T | op | K × N | own µs | TOPS | cuBLASLt+dequant µs | speed-up | mma.sync µs (own kernel; every tile)" };
        int minimum = gpu.Int8MmaMinTokens;
        try
        {
            gpu.Int8MmaMinTokens = CudaDevice.Int8GemvMaxTokens + 1;
            foreach (int tokens in new[] { 16, 32, 64, 128, 256, 512, 1024, 2048 })
            {
                foreach (var (name, inner, widths, residual) in ops)
                {
                    var random = new Random(tokens * 31 + widths[0]);
                    using var q = gpu.UploadNew<sbyte>(Compare.Codes(random, tokens * inner), tokens, inner);
                    using var ts = gpu.UploadNew<float>(Scales(random, tokens, 0.05f), tokens, 1);
                    var tensors = new List<DeviceTensor>();
                    var projections = new Int8Projection[widths.Length];
                    for (int i = 0; i < widths.Length; i++)
                    {
                        var w = gpu.UploadNew<sbyte>(Compare.Codes(random, widths[i] * inner), widths[i], inner);
                        var ws = gpu.UploadVector<float>(Scales(random, widths[i], 0.01f));
                        var y = gpu.Allocate(TensorType.Float32, tokens, widths[i]);
                        tensors.AddRange([w, ws, y]);
                        projections[i] = new Int8Projection(w, ws, null, y, residual);
                    }

                    try
                    {
                        float mma = Measure(() => gpu.MatMulInt8(q, ts, projections));
                        string path = Ran(gpu) + ByTile(Int8TmaTile.Gemm, () => gpu.MatMulInt8(q, ts, projections));
                        gpu.Int8Tma = false;
                        float wgmma = Measure(() => gpu.MatMulInt8(q, ts, projections));
                        path += $"; cp.async wgmma {wgmma * 1e3:F1} ({gpu.LastInt8MmaRows} rows)";
                        gpu.Int8Wgmma = false;
                        float mmaSync;
                        try
                        {
                            mmaSync = Measure(() => gpu.MatMulInt8(q, ts, projections));
                        }
                        finally
                        {
                            Restore(gpu);
                        }

                        gpu.Int8Mma = false;
                        float cublas;
                        try
                        {
                            // The separate path as the layer ran it before: a plain result, then AddInPlace into the residual.
                            using var scratch = residual ? gpu.Allocate(TensorType.Float32, tokens, widths[0]) : null;
                            cublas = Measure(() =>
                            {
                                foreach (var p in projections)
                                {
                                    gpu.MatMulInt8(q, ts, p.Weight, p.WeightScales, null, scratch ?? p.Output);
                                    if (scratch is not null)
                                    {
                                        gpu.AddInPlace(p.Output, scratch);
                                    }
                                }
                            });
                        }
                        finally
                        {
                            gpu.Int8Mma = true;
                        }

                        double operations = 2.0 * tokens * inner * widths.Sum();
                        lines.Add($"TIMING MMA | {tokens} | {name} | {inner} × {string.Join("+", widths)} | {mma * 1e3:F1} | "
                            + $"{operations / (mma * 1e-3) / 1e12:F0} | {cublas * 1e3:F1} | {cublas / mma:F2}× | {mmaSync * 1e3:F1} ({path})");
                        if (name == "gate_up")
                        {
                            // SwiGLU in the epilogue, against the grouped own GEMM + silu_mul and cuBLASLt + silu_mul.
                            var (gate, up) = (projections[0], projections[1]);
                            float fused = Measure(() => gpu.MatMulInt8SwiGlu(q, ts, gate, up));
                            string fusedPath = Ran(gpu) + ByTile(Int8TmaTile.SwiGlu, () => gpu.MatMulInt8SwiGlu(q, ts, gate, up));
                            float unfused = Measure(() =>
                            {
                                gpu.MatMulInt8(q, ts, projections);
                                gpu.SiluMul(gate.Output, up.Output, gate.Output);
                            });
                            gpu.Int8Mma = false;
                            try
                            {
                                cublas = Measure(() => gpu.MatMulInt8SwiGlu(q, ts, gate, up));
                            }
                            finally
                            {
                                gpu.Int8Mma = true;
                            }

                            lines.Add($"TIMING MMA | {tokens} | gate_up+silu | {inner} × {string.Join("+", widths)} | {fused * 1e3:F1} | "
                                + $"{operations / (fused * 1e-3) / 1e12:F0} | {cublas * 1e3:F1} | {cublas / fused:F2}× (own unfused {unfused * 1e3:F1}; {fusedPath})");
                        }
                    }
                    finally
                    {
                        tensors.ForEach(t => t.Dispose());
                    }
                }
            }
        }
        finally
        {
            gpu.Int8MmaMinTokens = minimum;
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }

        float Measure(Action call) => Compare.MeanMilliseconds(gpu, call, 5, 50);

        // On Hopper, µs of the call with each TMA tile forced.
        string ByTile(Int8TmaTile[] tiles, Action call)
        {
            if (gpu.ComputeCapability != (9, 0))
            {
                return "";
            }

            try
            {
                return "; TMA µs by tile " + string.Join(", ", tiles.Select(tile =>
                {
                    gpu.Int8TmaTileOverride = tile;
                    return $"{tile}: {Measure(call) * 1e3:F1}";
                }));
            }
            finally
            {
                gpu.Int8TmaTileOverride = null;
            }
        }
    }

    /// <summary>The kernel that ran last and its tile, for messages.</summary>
    private static string Ran(CudaDevice gpu) => gpu.LastInt8GemmPath == CudaDevice.Int8TmaPath
        ? $"{gpu.LastInt8GemmPath} ({gpu.LastInt8TmaTile})"
        : $"{gpu.LastInt8GemmPath} ({gpu.LastInt8MmaRows} rows)";

    private static void Restore(CudaDevice gpu)
    {
        gpu.Int8Tma = true;
        gpu.Int8TmaTileOverride = null;
        gpu.Int8Wgmma = true;
        gpu.Int8MmaRows = 0;
    }

    private static float[] Scales(Random random, int count, float scale) =>
        Compare.Floats(random, count, scale).Select(s => MathF.Abs(s) + scale * 1e-3f).ToArray();
}
