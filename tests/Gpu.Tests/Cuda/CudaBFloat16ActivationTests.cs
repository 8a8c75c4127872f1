using OrleansQuant.Gpu.Cuda;
using Xunit.Abstractions;
using PagedLayout = OrleansQuant.Gpu.Tests.Cuda.CudaPagedAttentionTests.PagedLayout;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// BFloat16 activations on the CUDA device (IComputeDevice, "Activations"), on fresh random inputs. Each op's bf16 twin
/// is checked against (a) the same GPU's Float32 op on the widened inputs, its output rounded to bf16 on the host:
/// bit for bit for the element-wise ops (the twins run the Float32 kernels' arithmetic between an exact widening load
/// and one rounding store), within 2 bf16 ulps for attention; and (b) the CPU device's bf16 op: bit for bit where both
/// devices' Float32 results are exact (Embed, AddInPlace, WriteKvCache), else within what the two devices' Float32
/// results may differ by (transcendentals, sum order, tensor cores) plus one bf16 rounding. The fused quantizations are
/// checked against the unfused bf16 calls on the GPU, bit for bit, with and without their optional output.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaBFloat16ActivationTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    private const float Eps = 1e-5f;
    private const int BlockSize = 16;

    // The GPU against the CPU device, both bf16, where their Float32 results may differ in the last float bits: one
    // bf16 ulp (the two floats on either side of a rounding boundary), or an absolute difference negligible on the
    // tensor's scale (a result near zero after cancellation, whose float error is large relative to itself).
    private const double NearZero = 1e-5;

    // Attention against the CPU device, judged as Compare.Close judges the Float32 kernels (|Δ| relative to |expected| +
    // rms): the fp32 kernels' 1e-4 plus a bf16 ulp (2^-8) on each side; the tensor-core prefill's 5e-2
    // (CudaTensorCorePrefillTests: its bf16 products) already covers the output's rounding.
    private const double SimtAttentionTolerance = 1e-2;
    private const double TensorCoreAttentionTolerance = 5e-2;

    // ---- Embed

    [GpuTheory]
    [InlineData(TensorType.Float32)]
    [InlineData(TensorType.BFloat16)]
    public void EmbedIntoBFloat16IsTheFloat32GatherRounded(TensorType tableType)
    {
        var random = Compare.Fresh(out int seed);
        int vocabulary = 1000, width = 4096, tokens = 37;
        var tableValues = Compare.Floats(random, vocabulary * width, 3f);
        var ids = Enumerable.Range(0, tokens).Select(_ => random.Next(vocabulary)).ToArray();
        string what = $"Embed, {tableType} table (seed {seed})";

        BFloat16[] Run(IComputeDevice device, int[] tokenIds)
        {
            using var table = Upload(device, tableType, tableValues, vocabulary, width);
            using var idTensor = device.UploadVector<int>(tokenIds);
            using var result = device.Allocate(TensorType.BFloat16, tokenIds.Length, width);
            device.Embed(idTensor, table, result);
            return result.ToArray<BFloat16>();
        }

        var gpu = devices.Gpu;
        var actual = Run(gpu, ids);
        using (var table = Upload(gpu, tableType, tableValues, vocabulary, width))
        using (var idTensor = gpu.UploadVector<int>(ids))
        using (var floats = gpu.Allocate(TensorType.Float32, tokens, width))
        {
            gpu.Embed(idTensor, table, floats);
            SameBits(Narrow(floats.ToArray<float>()), actual, what + ", against the Float32 gather rounded");
        }

        SameBits(Run(devices.Cpu, ids), actual, what + ", against the CPU device");

        // An id outside the vocabulary: its row is NaN on the GPU (it cannot throw there), a quiet bf16 NaN here.
        var outside = Run(gpu, [ids[0], vocabulary, ids[1]]);
        Assert.All(outside[width..(2 * width)], v => Assert.Equal((ushort)0x7FC0, v.Bits));
        SameBits(actual[..width], outside[..width], what + ", the row before an outside id");
    }

    // ---- RmsNorm

    [GpuTheory]
    [InlineData(1, 4096)]
    [InlineData(300, 4096)]
    [InlineData(37, 1001)]
    public void RmsNormOfBFloat16IsTheFloat32NormRounded(int tokens, int width)
    {
        var random = Compare.Fresh(out int seed);
        var x = Activations(random, tokens * width, 3f);
        var gain = Compare.Floats(random, width, 2f);
        string what = $"RmsNorm [{tokens}, {width}] (seed {seed})";

        BFloat16[] Run(IComputeDevice device)
        {
            using var input = device.UploadNew<BFloat16>(x, tokens, width);
            using var weight = device.UploadVector<float>(gain);
            using var result = device.Allocate(TensorType.BFloat16, tokens, width);
            device.RmsNorm(input, weight, Eps, result);
            return result.ToArray<BFloat16>();
        }

        var gpu = devices.Gpu;
        var actual = Run(gpu);
        using (var input = gpu.UploadNew<float>(Widen(x), tokens, width))
        using (var weight = gpu.UploadVector<float>(gain))
        using (var result = gpu.Allocate(TensorType.Float32, tokens, width))
        {
            gpu.RmsNorm(input, weight, Eps, result);
            SameBits(Narrow(result.ToArray<float>()), actual, what + ", against the Float32 norm rounded");
        }

        NearlySame(Run(devices.Cpu), actual, what + ", against the CPU device");
    }

    // ---- SiluMul, AddInPlace

    [GpuTheory]
    [InlineData(1, 14336, "output")]
    [InlineData(64, 14336, "gate")]
    [InlineData(5, 999, "up")]
    public void SiluMulOfBFloat16IsTheFloat32ProductRoundedEvenInPlace(int tokens, int width, string into)
    {
        var random = Compare.Fresh(out int seed);
        var gateValues = Activations(random, tokens * width, 4f);
        var upValues = Activations(random, tokens * width, 2f);
        string what = $"SiluMul [{tokens}, {width}] into {into} (seed {seed})";

        BFloat16[] Run(IComputeDevice device)
        {
            using var gate = device.UploadNew<BFloat16>(gateValues, tokens, width);
            using var up = device.UploadNew<BFloat16>(upValues, tokens, width);
            using var separate = device.Allocate(TensorType.BFloat16, tokens, width);
            var result = into switch { "gate" => gate, "up" => up, _ => separate };
            device.SiluMul(gate, up, result);
            return result.ToArray<BFloat16>();
        }

        var gpu = devices.Gpu;
        var actual = Run(gpu);
        using (var gate = gpu.UploadNew<float>(Widen(gateValues), tokens, width))
        using (var up = gpu.UploadNew<float>(Widen(upValues), tokens, width))
        using (var result = gpu.Allocate(TensorType.Float32, tokens, width))
        {
            gpu.SiluMul(gate, up, result);
            SameBits(Narrow(result.ToArray<float>()), actual, what + ", against the Float32 product rounded");
        }

        NearlySame(Run(devices.Cpu), actual, what + ", against the CPU device");
    }

    [GpuTheory]
    [InlineData(1, 4096)]
    [InlineData(300, 4096)]
    [InlineData(7, 33)]
    public void AddInPlaceOfBFloat16IsTheFloat32SumRounded(int tokens, int width)
    {
        var random = Compare.Fresh(out int seed);
        var xValues = Activations(random, tokens * width, 8f);
        var yValues = Activations(random, tokens * width, 1f);
        string what = $"AddInPlace [{tokens}, {width}] (seed {seed})";

        BFloat16[] Run(IComputeDevice device)
        {
            using var x = device.UploadNew<BFloat16>(xValues, tokens, width);
            using var y = device.UploadNew<BFloat16>(yValues, tokens, width);
            device.AddInPlace(x, y);
            return x.ToArray<BFloat16>();
        }

        var gpu = devices.Gpu;
        var actual = Run(gpu);
        using (var x = gpu.UploadNew<float>(Widen(xValues), tokens, width))
        using (var y = gpu.UploadNew<float>(Widen(yValues), tokens, width))
        {
            gpu.AddInPlace(x, y);
            SameBits(Narrow(x.ToArray<float>()), actual, what + ", against the Float32 sum rounded");
        }

        // The sum of two bf16 is one correctly rounded float on either device, so the CPU device's is the same bits.
        SameBits(Run(devices.Cpu), actual, what + ", against the CPU device");
    }

    // ---- ApplyRope

    [GpuTheory]
    [InlineData(37, 32, 128)]
    [InlineData(5, 8, 64)]
    public void RopeOnBFloat16IsTheFloat32RotationRounded(int tokens, int heads, int headDim)
    {
        var random = Compare.Fresh(out int seed);
        var values = Activations(random, tokens * heads * headDim, 2f);
        var positions = Enumerable.Range(0, tokens).Select(_ => random.Next(8192)).ToArray();
        var frequencies = Enumerable.Range(0, headDim / 2).Select(i => (float)(1 / Math.Pow(500000, 2.0 * i / headDim))).ToArray();
        string what = $"ApplyRope {tokens} × {heads} × {headDim} (seed {seed})";

        BFloat16[] Run(IComputeDevice device)
        {
            using var x = device.UploadNew<BFloat16>(values, tokens, heads * headDim);
            using var position = device.UploadVector<int>(positions);
            using var inverse = device.UploadVector<float>(frequencies);
            device.ApplyRope(x, heads, headDim, position, inverse);
            return x.ToArray<BFloat16>();
        }

        var gpu = devices.Gpu;
        var actual = Run(gpu);
        using (var x = gpu.UploadNew<float>(Widen(values), tokens, heads * headDim))
        using (var position = gpu.UploadVector<int>(positions))
        using (var inverse = gpu.UploadVector<float>(frequencies))
        {
            gpu.ApplyRope(x, heads, headDim, position, inverse);
            SameBits(Narrow(x.ToArray<float>()), actual, what + ", against the Float32 rotation rounded");
        }

        NearlySame(Run(devices.Cpu), actual, what + ", against the CPU device");
    }

    // ---- WriteKvCache

    [GpuTheory]
    [InlineData(TensorType.Float32, 96)]
    [InlineData(TensorType.BFloat16, 96)]
    [InlineData(TensorType.Float32, 7)] // the scalar path
    [InlineData(TensorType.BFloat16, 7)]
    public void WriteKvCacheOfBFloat16RowsIsTheFloat32WriteOfTheWidenedRows(TensorType cacheType, int width)
    {
        var random = Compare.Fresh(out int seed);
        int rows = 64, tokens = 9;
        var keyCache = Compare.Floats(random, rows * width, 3f);
        var valueCache = Compare.Floats(random, rows * width, 3f);
        var keys = Activations(random, tokens * width, 3f);
        var values = Activations(random, tokens * width, 3f);
        // A signalling NaN: widened and narrowed it becomes quiet, as a Float32 key's would in a bf16 cache.
        keys[3] = new BFloat16(0x7F81);
        int[] slots = [17, 3, 63, 8, 0, 40, 41, 16, 5];
        string what = $"WriteKvCache, {cacheType} caches, width {width} (seed {seed})";

        (ulong[] Keys, ulong[] Values) Run(IComputeDevice device, TensorType rowType)
        {
            using var kc = Upload(device, cacheType, keyCache, rows, width);
            using var vc = Upload(device, cacheType, valueCache, rows, width);
            using var k = rowType == TensorType.BFloat16 ? device.UploadNew<BFloat16>(keys, tokens, width) : device.UploadNew<float>(Widen(keys), tokens, width);
            using var v = rowType == TensorType.BFloat16 ? device.UploadNew<BFloat16>(values, tokens, width) : device.UploadNew<float>(Widen(values), tokens, width);
            using var s = device.UploadVector<int>(slots);
            device.WriteKvCache(k, v, s, kc, vc);
            return (BFloat16Samples.BitsOf(kc), BFloat16Samples.BitsOf(vc));
        }

        var actual = Run(devices.Gpu, TensorType.BFloat16);
        var widened = Run(devices.Gpu, TensorType.Float32);
        Assert.True(widened.Keys.AsSpan().SequenceEqual(actual.Keys), what + ": keys differ from the Float32 write of the widened keys");
        Assert.True(widened.Values.AsSpan().SequenceEqual(actual.Values), what + ": values differ from the Float32 write of the widened values");
        var cpu = Run(devices.Cpu, TensorType.BFloat16);
        Assert.True(cpu.Keys.AsSpan().SequenceEqual(actual.Keys), what + ": keys differ from the CPU device's");
        Assert.True(cpu.Values.AsSpan().SequenceEqual(actual.Values), what + ": values differ from the CPU device's");
    }

    // ---- Fused quantizations

    [GpuTheory]
    [InlineData(1, 4096, true)]
    [InlineData(300, 4096, false)]
    [InlineData(37, 1001, true)]
    [InlineData(37, 1001, false)]
    public void RmsNormQuantizeOfBFloat16EqualsTheUnfusedBFloat16Calls(int tokens, int width, bool keepNormed)
    {
        var random = Compare.Fresh(out int seed);
        var x = Activations(random, tokens * width, 3f);
        var gain = Compare.Floats(random, width, 2f);
        string what = $"RmsNormQuantize [{tokens}, {width}], normed {(keepNormed ? "kept" : "null")} (seed {seed})";
        var gpu = devices.Gpu;
        using var input = gpu.UploadNew<BFloat16>(x, tokens, width);
        using var weight = gpu.UploadVector<float>(gain);

        // Unfused: the norm stored as bf16, then quantized. QuantizePerToken of a bf16 x is that of its widening, so the
        // reference widens explicitly and quantizes Float32 (the GPU's bf16 QuantizePerToken is not what is tested here).
        using var normed = gpu.Allocate(TensorType.BFloat16, tokens, width);
        gpu.RmsNorm(input, weight, Eps, normed);
        var (codes, scales) = QuantizeWidened(gpu, normed);

        using var fusedNormed = keepNormed ? gpu.Allocate(TensorType.BFloat16, tokens, width) : null;
        using var fusedCodes = gpu.Allocate(TensorType.Int8, tokens, width);
        using var fusedScales = gpu.Allocate(TensorType.Float32, tokens, 1);
        gpu.RmsNormQuantize(input, weight, Eps, fusedNormed, fusedCodes, fusedScales);

        SameQuantization(codes, scales, fusedCodes.ToArray<sbyte>(), fusedScales.ToArray<float>(), what);
        if (fusedNormed is not null)
        {
            SameBits(normed.ToArray<BFloat16>(), fusedNormed.ToArray<BFloat16>(), what + ", the normed output");
        }

        // The CPU device's fused call, whose norm may differ from the GPU's by a bf16 ulp here and there (CloseQuantization).
        var cpu = devices.Cpu;
        using var cpuInput = cpu.UploadNew<BFloat16>(x, tokens, width);
        using var cpuWeight = cpu.UploadVector<float>(gain);
        using var cpuNormed = keepNormed ? cpu.Allocate(TensorType.BFloat16, tokens, width) : null;
        using var cpuCodes = cpu.Allocate(TensorType.Int8, tokens, width);
        using var cpuScales = cpu.Allocate(TensorType.Float32, tokens, 1);
        cpu.RmsNormQuantize(cpuInput, cpuWeight, Eps, cpuNormed, cpuCodes, cpuScales);
        CloseQuantization(cpuCodes.ToArray<sbyte>(), cpuScales.ToArray<float>(), fusedCodes.ToArray<sbyte>(), fusedScales.ToArray<float>(), what + ", against the CPU device");
    }

    [GpuTheory]
    [InlineData(1, 14336, "null")]
    [InlineData(64, 14336, "gate")]
    [InlineData(5, 999, "output")]
    [InlineData(5, 999, "null")]
    public void SiluMulQuantizeOfBFloat16EqualsTheUnfusedBFloat16Calls(int tokens, int width, string into)
    {
        var random = Compare.Fresh(out int seed);
        var gateValues = Activations(random, tokens * width, 4f);
        var upValues = Activations(random, tokens * width, 2f);
        string what = $"SiluMulQuantize [{tokens}, {width}] into {into} (seed {seed})";
        var gpu = devices.Gpu;

        // Unfused: the product stored as bf16, then quantized (through its widening, as above).
        using (var gate = gpu.UploadNew<BFloat16>(gateValues, tokens, width))
        using (var up = gpu.UploadNew<BFloat16>(upValues, tokens, width))
        using (var product = gpu.Allocate(TensorType.BFloat16, tokens, width))
        using (var fusedGate = gpu.UploadNew<BFloat16>(gateValues, tokens, width))
        using (var separate = gpu.Allocate(TensorType.BFloat16, tokens, width))
        using (var fusedCodes = gpu.Allocate(TensorType.Int8, tokens, width))
        using (var fusedScales = gpu.Allocate(TensorType.Float32, tokens, 1))
        {
            gpu.SiluMul(gate, up, product);
            var (codes, scales) = QuantizeWidened(gpu, product);
            var result = into switch { "gate" => fusedGate, "output" => separate, _ => null };
            gpu.SiluMulQuantize(fusedGate, up, result, fusedCodes, fusedScales);
            SameQuantization(codes, scales, fusedCodes.ToArray<sbyte>(), fusedScales.ToArray<float>(), what);
            if (result is not null)
            {
                SameBits(product.ToArray<BFloat16>(), result.ToArray<BFloat16>(), what + ", the product");
            }
            else
            {
                SameBits(gateValues, fusedGate.ToArray<BFloat16>(), what + ": the gate changed though no output was asked for");
            }

            var cpu = devices.Cpu;
            using var cpuGate = cpu.UploadNew<BFloat16>(gateValues, tokens, width);
            using var cpuUp = cpu.UploadNew<BFloat16>(upValues, tokens, width);
            using var cpuCodes = cpu.Allocate(TensorType.Int8, tokens, width);
            using var cpuScales = cpu.Allocate(TensorType.Float32, tokens, 1);
            cpu.SiluMulQuantize(cpuGate, cpuUp, null, cpuCodes, cpuScales);
            CloseQuantization(cpuCodes.ToArray<sbyte>(), cpuScales.ToArray<float>(), fusedCodes.ToArray<sbyte>(), fusedScales.ToArray<float>(), what + ", against the CPU device");
        }
    }

    private static (sbyte[] Codes, float[] Scales) QuantizeWidened(CudaDevice gpu, DeviceTensor bf16)
    {
        using var widened = gpu.Allocate(TensorType.Float32, bf16.Rows, bf16.Columns);
        gpu.Convert(bf16, widened);
        using var codes = gpu.Allocate(TensorType.Int8, bf16.Rows, bf16.Columns);
        using var scales = gpu.Allocate(TensorType.Float32, bf16.Rows, 1);
        gpu.QuantizePerToken(widened, codes, scales);
        return (codes.ToArray<sbyte>(), scales.ToArray<float>());
    }

    private static void SameQuantization(sbyte[] codes, float[] scales, sbyte[] fusedCodes, float[] fusedScales, string what)
    {
        Compare.SameBits(scales, fusedScales, what + ", scales");
        int mismatch = codes.AsSpan().CommonPrefixLength(fusedCodes);
        Assert.True(mismatch == codes.Length, $"{what}: code {mismatch} is {fusedCodes.ElementAtOrDefault(mismatch)} fused, {codes.ElementAtOrDefault(mismatch)} unfused");
    }

    /// <summary>
    /// Two devices' quantizations of bf16 values that may differ by a bf16 ulp (2^-8 to 2^-7 relative) where the two
    /// devices' float results straddle a rounding boundary: a row's scale then moves by up to 2^-7, and a code near
    /// ±127 by up to one step from the scale plus half a step from its own value, so 2 steps at most.
    /// </summary>
    private static void CloseQuantization(sbyte[] expectedCodes, float[] expectedScales, sbyte[] codes, float[] scales, string what)
    {
        Assert.Equal(expectedScales.Length, scales.Length);
        Assert.Equal(expectedCodes.Length, codes.Length);
        for (int t = 0; t < scales.Length; t++)
        {
            if (!(Math.Abs(scales[t] - expectedScales[t]) <= expectedScales[t] / 64))
            {
                Assert.Fail($"{what}: scale {t} is {scales[t]:R} on the GPU, {expectedScales[t]:R} on the CPU");
            }
        }

        for (int i = 0; i < codes.Length; i++)
        {
            if (Math.Abs(codes[i] - expectedCodes[i]) > 2)
            {
                Assert.Fail($"{what}: code {i} is {codes[i]} on the GPU, {expectedCodes[i]} on the CPU");
            }
        }
    }

    // ---- PagedAttention

    /// <summary>
    /// "queryLength:contextLength" per sequence, heads, KV heads, head dim, sliding window: between them the general
    /// kernel, both prefill kernels, decode with and without the partition merge, mixed steps, GQA and windows.
    /// </summary>
    public static TheoryData<string, int, int, int, int?, bool, bool> AttentionCases()
    {
        var data = new TheoryData<string, int, int, int, int?, bool, bool>();
        (string, int, int, int, int?)[] shapes =
        [
            ("37:37,1:300,20:85,1:1,64:200", 32, 8, 128, null), // mixed: prefill d128 g4, then decode with merges
            ("1:1024", 32, 8, 128, null), // one decode row: many partitions merged
            ("1:700,1:33,1:257", 8, 4, 64, 100), // decode only, window
            ("70:200", 8, 4, 64, 50), // chunked prefill, window
            ("100:100,1:50", 16, 2, 64, null), // group 8, mixed
            ("13:60,1:200,0:10,3:3", 6, 2, 80, 30), // head dim 80, group 3: the general kernel
        ];
        foreach (var (sequences, heads, kvHeads, headDim, window) in shapes)
        {
            foreach (bool bf16Cache in new[] { false, true })
            {
                foreach (bool tensorCores in new[] { false, true })
                {
                    data.Add(sequences, heads, kvHeads, headDim, window, bf16Cache, tensorCores);
                }
            }
        }

        return data;
    }

    [GpuTheory]
    [MemberData(nameof(AttentionCases))]
    public void PagedAttentionOnBFloat16IsTheFloat32AttentionRounded(string sequences, int heads, int kvHeads, int headDim, int? window,
        bool bf16Cache, bool tensorCores)
    {
        var random = Compare.Fresh(out int seed);
        var shape = new AttentionShape(heads, kvHeads, headDim, window);
        var specs = sequences.Split(',').Select(p => p.Split(':')).Select(p => (Query: int.Parse(p[0]), Context: int.Parse(p[1]))).ToArray();
        var layout = PagedLayout.Create(random, specs, BlockSize, spareBlocks: 3);
        int tokens = layout.QueryStarts[^1], cacheRows = layout.TotalBlocks * BlockSize;
        var q = Activations(random, tokens * shape.QueryWidth, 2f);
        var keyCache = Compare.Floats(random, cacheRows * shape.KvWidth, 2f);
        var valueCache = Compare.Floats(random, cacheRows * shape.KvWidth);
        var cacheType = bf16Cache ? TensorType.BFloat16 : TensorType.Float32;
        string what = $"PagedAttention {sequences} {shape}, {cacheType} caches, tensor cores {tensorCores} (seed {seed})";

        var gpu = devices.Gpu;
        using var keys = Upload(gpu, cacheType, keyCache, cacheRows, shape.KvWidth);
        using var values = Upload(gpu, cacheType, valueCache, cacheRows, shape.KvWidth);
        using var batch = layout.Upload(gpu, specs);
        BFloat16[] actual, expected;
        string path, floatPath;
        gpu.TensorCorePrefill = tensorCores;
        try
        {
            using (var query = gpu.UploadNew<BFloat16>(q, tokens, shape.QueryWidth))
            using (var result = gpu.Allocate(TensorType.BFloat16, tokens, shape.QueryWidth))
            {
                gpu.PagedAttention(query, keys, values, batch, shape, result);
                actual = result.ToArray<BFloat16>();
                path = gpu.LastAttentionPath;
            }

            using (var query = gpu.UploadNew<float>(Widen(q), tokens, shape.QueryWidth))
            using (var result = gpu.Allocate(TensorType.Float32, tokens, shape.QueryWidth))
            {
                gpu.PagedAttention(query, keys, values, batch, shape, result);
                expected = Narrow(result.ToArray<float>());
                floatPath = gpu.LastAttentionPath;
            }
        }
        finally
        {
            gpu.TensorCorePrefill = true;
        }

        // The same kernels but for the activations' type: each launch (the partition merge's too, which writes the
        // output) is the Float32 one's name plus "_abf16", on the same grid.
        var launches = path.Split(" + ");
        var floatLaunches = floatPath.Split(" + ");
        Assert.Equal(floatLaunches.Length, launches.Length);
        for (int i = 0; i < launches.Length; i++)
        {
            string kernel = floatLaunches[i].Split('[')[0];
            Assert.Equal(floatLaunches[i].Replace(kernel, kernel + "_abf16"), launches[i]);
        }

        int differing = WithinUlps(expected, actual, 2, what + ", against the Float32 attention rounded");
        output.WriteLine($"{what}: {path}; {differing} of {actual.Length} outputs not bit-equal to the Float32 ones rounded");

        var cpu = devices.Cpu;
        using var cpuKeys = Upload(cpu, cacheType, keyCache, cacheRows, shape.KvWidth);
        using var cpuValues = Upload(cpu, cacheType, valueCache, cacheRows, shape.KvWidth);
        using var cpuBatch = layout.Upload(cpu, specs);
        using var cpuQuery = cpu.UploadNew<BFloat16>(q, tokens, shape.QueryWidth);
        using var cpuResult = cpu.Allocate(TensorType.BFloat16, tokens, shape.QueryWidth);
        cpu.PagedAttention(cpuQuery, cpuKeys, cpuValues, cpuBatch, shape, cpuResult);
        bool onTensorCores = path.Contains("_mma_", StringComparison.Ordinal);
        Compare.Close(Widen(cpuResult.ToArray<BFloat16>()), Widen(actual),
            onTensorCores ? TensorCoreAttentionTolerance : SimtAttentionTolerance, what + ", against the CPU device");
    }

    // ---- One type per call

    /// <summary>Activations of one call in both types are refused, the message naming the call and the tensors.</summary>
    [GpuFact]
    public void MixedActivationTypesAreRefused()
    {
        var gpu = devices.Gpu;
        using var f32 = gpu.Allocate(TensorType.Float32, 2, 64);
        using var bf16 = gpu.Allocate(TensorType.BFloat16, 2, 64);
        using var gain = gpu.Allocate(TensorType.Float32, 1, 64);
        using var codes = gpu.Allocate(TensorType.Int8, 2, 64);
        using var scales = gpu.Allocate(TensorType.Float32, 2, 1);
        using var slots = gpu.UploadVector<int>([0, 1]);
        using var cache = gpu.Allocate(TensorType.BFloat16, 16, 64);
        var shape = new AttentionShape(1, 1, 64);
        var layout = PagedLayout.Create(new Random(1), [(2, 2)], BlockSize, spareBlocks: 0);
        using var batch = layout.Upload(gpu, [(2, 2)]);
        using var attentionCache = gpu.Allocate(TensorType.Float32, layout.TotalBlocks * BlockSize, 64);

        var calls = new (string Call, Action Run)[]
        {
            (nameof(IComputeDevice.RmsNorm), () => gpu.RmsNorm(bf16, gain, Eps, f32)),
            (nameof(IComputeDevice.SiluMul), () => gpu.SiluMul(f32, bf16, f32)),
            (nameof(IComputeDevice.AddInPlace), () => gpu.AddInPlace(bf16, f32)),
            (nameof(IComputeDevice.RmsNormQuantize), () => gpu.RmsNormQuantize(bf16, gain, Eps, f32, codes, scales)),
            (nameof(IComputeDevice.SiluMulQuantize), () => gpu.SiluMulQuantize(bf16, f32, null, codes, scales)),
            (nameof(IComputeDevice.WriteKvCache), () => gpu.WriteKvCache(f32, bf16, slots, cache, cache)),
            (nameof(IComputeDevice.PagedAttention), () => gpu.PagedAttention(f32, attentionCache, attentionCache, batch, shape, bf16)),
        };
        foreach (var (call, run) in calls)
        {
            var error = Assert.Throws<ArgumentException>(run);
            Assert.Contains(call, error.Message);
            Assert.Contains(f32.ToString()!, error.Message);
            Assert.Contains(bf16.ToString()!, error.Message);
        }

        // An activation of neither type.
        using var int8 = gpu.Allocate(TensorType.Int8, 2, 64);
        var wrong = Assert.Throws<ArgumentException>(() => gpu.AddInPlace(int8, int8));
        Assert.Contains(nameof(IComputeDevice.AddInPlace), wrong.Message);
        Assert.Contains(int8.ToString()!, wrong.Message);
    }

    // ---- Helpers

    /// <summary>Random bf16 activations in (−scale, scale).</summary>
    private static BFloat16[] Activations(Random random, int count, float scale) => Narrow(Compare.Floats(random, count, scale));

    private static BFloat16[] Narrow(float[] values)
    {
        var narrowed = new BFloat16[values.Length];
        BFloat16.Narrow(values, narrowed);
        return narrowed;
    }

    private static float[] Widen(BFloat16[] values)
    {
        var widened = new float[values.Length];
        BFloat16.Widen(values, widened);
        return widened;
    }

    /// <summary>A tensor of <paramref name="type"/>, Float32 or BFloat16 (the values rounded), holding <paramref name="values"/>.</summary>
    private static DeviceTensor Upload(IComputeDevice device, TensorType type, float[] values, int rows, int columns) =>
        type == TensorType.BFloat16 ? device.UploadNew<BFloat16>(Narrow(values), rows, columns) : device.UploadNew<float>(values, rows, columns);

    private static void SameBits(BFloat16[] expected, BFloat16[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int i = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(i == expected.Length,
            $"{what}: element {i} is 0x{actual.ElementAtOrDefault(i).Bits:X4} ({actual.ElementAtOrDefault(i)}), expected 0x{expected.ElementAtOrDefault(i).Bits:X4} ({expected.ElementAtOrDefault(i)})");
    }

    /// <summary>
    /// Every element within <paramref name="ulps"/> bf16 steps of the expected one, NaN where it is NaN; returns how
    /// many are not the same bits (for the test's output).
    /// </summary>
    private static int WithinUlps(BFloat16[] expected, BFloat16[] actual, int ulps, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            differing += expected[i].Bits != actual[i].Bits ? 1 : 0;
            if (UlpDistance(expected[i], actual[i]) > ulps)
            {
                Assert.Fail($"{what}: element {i} is 0x{actual[i].Bits:X4} ({actual[i]}), expected 0x{expected[i].Bits:X4} ({expected[i]}), more than {ulps} ulps apart");
            }
        }

        return differing;
    }

    /// <summary>
    /// The GPU's bf16 result against the CPU device's where their Float32 results may differ in the last float bits:
    /// each element within one bf16 ulp, or within <see cref="NearZero"/> of the expected tensor's rms.
    /// </summary>
    private static void NearlySame(BFloat16[] expected, BFloat16[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double rms = Math.Sqrt(expected.Sum(e => (double)e.ToSingle() * e.ToSingle()) / Math.Max(1, expected.Length));
        for (int i = 0; i < expected.Length; i++)
        {
            bool close = UlpDistance(expected[i], actual[i]) <= 1
                || Math.Abs((double)actual[i].ToSingle() - expected[i].ToSingle()) <= NearZero * rms;
            if (!close)
            {
                Assert.Fail($"{what}: element {i} is {actual[i]} (0x{actual[i].Bits:X4}) on the GPU, {expected[i]} (0x{expected[i].Bits:X4}) on the CPU");
            }
        }
    }

    /// <summary>Steps between two bf16 along the number line (−0 and +0 are one point); both NaN is 0, one NaN is "far".</summary>
    private static int UlpDistance(BFloat16 a, BFloat16 b)
    {
        bool aNaN = float.IsNaN(a.ToSingle()), bNaN = float.IsNaN(b.ToSingle());
        if (aNaN || bNaN)
        {
            return aNaN && bNaN ? 0 : int.MaxValue;
        }

        static int Ordered(ushort bits) => (bits & 0x8000) != 0 ? -(bits & 0x7FFF) : bits;
        return Math.Abs(Ordered(a.Bits) - Ordered(b.Bits));
    }
}
