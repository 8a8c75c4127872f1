using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

// Tests force each slower int8 path in turn and compare it with the scalar one.
[assembly: InternalsVisibleTo("OrleansQuant.Gpu.Tests")]

namespace OrleansQuant.Gpu.Cpu;

// W8A8 per-token × per-channel int8 GEMM (Xiao et al. 2023, SmoothQuant, section 3 "per-token" / "per-channel").
public sealed partial class CpuDevice
{
    // Int8 weight rows are a quarter of fp32 ones, so twice as many still fit L2 while the tile's tokens pass over them.
    private const int Int8WeightRowsPerTile = 64;
    private const int Int8TokensPerTile = 64;

    // Exactness bound: |q·w| ≤ 128·128 and, with the VNNI offset, |(q + 128)·w| ≤ 255·128, so K ≤ 2¹⁶ keeps every
    // int32 partial sum below 2³¹.
    private const int MaxInt8Inner = 1 << 16;

    private const float MinScale = 1e-8f;

    /// <summary>
    /// The int8 dot-product kernels, slowest first. .NET 10 exposes no 512-bit VNNI (no <c>Avx512Vnni</c> class, and
    /// <c>Avx10v1</c> has no <c>vpdpbusd</c>), so on AVX-512 machines without the VEX-encoded AVX-VNNI the best is
    /// <c>vpmovsxbw</c> + <c>vpmaddwd</c> on 512-bit vectors.
    /// </summary>
    internal enum Int8Kernel
    {
        Scalar,
        Avx2,
        Avx512,
        AvxVnni,
    }

    internal static Int8Kernel BestInt8Kernel { get; } =
        AvxVnni.IsSupported ? Int8Kernel.AvxVnni
        : Avx512BW.IsSupported ? Int8Kernel.Avx512
        : Avx2.IsSupported ? Int8Kernel.Avx2
        : Int8Kernel.Scalar;

    /// <summary>The int8 GEMM path this process uses, for benchmark output: avx-vnni, avx512bw, avx2 or scalar.</summary>
    public static string Int8Path => Name(BestInt8Kernel);

    internal static IReadOnlyList<Int8Kernel> SupportedInt8Kernels { get; } =
        Enum.GetValues<Int8Kernel>().Where(IsSupported).ToArray();

    private Int8Kernel _int8Kernel = BestInt8Kernel;

    // Σₖ w[n, k] per weight row, for undoing VNNI's +128 activation offset; computed once per weight tensor.
    private readonly ConditionalWeakTable<DeviceTensor, int[]> _weightRowSums = new();

    /// <summary>The kernel this device's <see cref="MatMulInt8"/> runs; tests set a slower one to compare paths.</summary>
    internal Int8Kernel Int8KernelInUse
    {
        get => _int8Kernel;
        set => _int8Kernel = IsSupported(value)
            ? value
            : throw new PlatformNotSupportedException($"int8 path {Name(value)} is not supported on this machine");
    }

    internal static string Name(Int8Kernel kernel) => kernel switch
    {
        Int8Kernel.AvxVnni => "avx-vnni",
        Int8Kernel.Avx512 => "avx512bw",
        Int8Kernel.Avx2 => "avx2",
        _ => "scalar",
    };

    private static bool IsSupported(Int8Kernel kernel) => kernel switch
    {
        Int8Kernel.AvxVnni => AvxVnni.IsSupported,
        Int8Kernel.Avx512 => Avx512BW.IsSupported,
        Int8Kernel.Avx2 => Avx2.IsSupported,
        _ => true,
    };

    public void QuantizePerToken(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales)
    {
        if (Float32Views.Any(x))
        {
            using var views = new Float32Views(this);
            QuantizePerToken(views.Of(x), quantized, scales);
            return;
        }

        int tokens = x.Rows, width = x.Columns;
        RequirePerTokenQuantization(x, quantized, scales);
        float[] input = Own(x).Array<float>(), scale = Own(scales).Array<float>();
        sbyte[] codes = Own(quantized).Array<sbyte>();
        ForEachRow(tokens, width, t =>
        {
            var row = input.AsSpan(t * width, width);
            // Exactly the reference's float32 steps: amax / 127, clamp to 1e-8, divide (not multiply by a reciprocal).
            float s = MathF.Max(MaxAbs(row) / 127f, MinScale);
            scale[t] = s;
            QuantizeRow(row, s, codes.AsSpan(t * width, width));
        });
    }

    public void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales,
        DeviceTensor? bias, DeviceTensor output, bool accumulate = false)
    {
        if (Float32Views.Any(output))
        {
            using var views = new Float32Views(this);
            MatMulInt8(quantized, tokenScales, weight, weightScales, bias, views.Of(output), accumulate);
            views.Store(output);
            return;
        }

        int tokens = quantized.Rows, inner = quantized.Columns, outputs = weight.Rows;
        RequireW8A8Linear(quantized, tokenScales, weight, weightScales, bias, output);

        if (inner > MaxInt8Inner)
        {
            throw new ArgumentException($"{nameof(MatMulInt8)}: inner dimension {inner} exceeds {MaxInt8Inner}, past which int32 sums could overflow");
        }

        sbyte[] q = Own(quantized).Array<sbyte>(), w = Own(weight).Array<sbyte>();
        float[] ts = Own(tokenScales).Array<float>(), ws = Own(weightScales).Array<float>(), result = Own(output).Array<float>();
        float[]? b = bias is null ? null : Own(bias).Array<float>();
        var kernel = _int8Kernel;
        int[]? rowSums = kernel == Int8Kernel.AvxVnni ? _weightRowSums.GetValue(weight, RowSums) : null;
        int weightTiles = (outputs + Int8WeightRowsPerTile - 1) / Int8WeightRowsPerTile;
        int tokenTiles = (tokens + Int8TokensPerTile - 1) / Int8TokensPerTile;

        void Tile(int tile)
        {
            int n0 = tile % weightTiles * Int8WeightRowsPerTile, n1 = Math.Min(n0 + Int8WeightRowsPerTile, outputs);
            int t0 = tile / weightTiles * Int8TokensPerTile, t1 = Math.Min(t0 + Int8TokensPerTile, tokens);
            ref sbyte qBase = ref MemoryMarshal.GetArrayDataReference(q);
            ref sbyte wBase = ref MemoryMarshal.GetArrayDataReference(w);
            for (int t = t0; t < t1; t++)
            {
                ref sbyte a = ref Unsafe.Add(ref qBase, t * inner);
                float tokenScale = ts[t];
                int o = t * outputs, n = n0;
                // Four weight rows per pass: each activation vector is loaded (and widened) once for four dot products.
                for (; n + 4 <= n1; n += 4)
                {
                    ref sbyte rows = ref Unsafe.Add(ref wBase, n * inner);
                    var sums = kernel switch
                    {
                        Int8Kernel.AvxVnni => Dot4AvxVnni(ref a, ref rows, inner)
                            - Vector128.Create(128) * Vector128.LoadUnsafe(ref rowSums![0], (nuint)n),
                        Int8Kernel.Avx512 => Dot4Avx512(ref a, ref rows, inner),
                        Int8Kernel.Avx2 => Dot4Avx2(ref a, ref rows, inner),
                        _ => Dot4Scalar(ref a, ref rows, inner),
                    };
                    for (int i = 0; i < 4; i++)
                    {
                        Store(ref result[o + n + i], Dequantize(sums[i], tokenScale, ws[n + i], b, n + i), accumulate);
                    }
                }

                // The last N mod 4 rows (none for real model widths) take the scalar loop on every path.
                for (; n < n1; n++)
                {
                    Store(ref result[o + n], Dequantize(DotScalar(ref a, ref Unsafe.Add(ref wBase, n * inner), inner), tokenScale, ws[n], b, n), accumulate);
                }
            }
        }

        if ((long)tokens * inner * outputs < 1 << 18)
        {
            for (int tile = 0; tile < weightTiles * tokenTiles; tile++)
            {
                Tile(tile);
            }
        }
        else
        {
            Parallel.For(0, weightTiles * tokenTiles, _parallel, Tile);
        }
    }

    // The order (sum · token scale) · weight scale + bias is the contract, so every path and the tests round alike.
    private static float Dequantize(int sum, float tokenScale, float weightScale, float[]? bias, int n)
    {
        float value = sum * tokenScale * weightScale;
        return bias is null ? value : value + bias[n];
    }

    // The residual add fused into the linear rounds as AddInPlace after it would: one float32 addition.
    private static void Store(ref float to, float value, bool accumulate) => to = accumulate ? to + value : value;

    private static float MaxAbs(ReadOnlySpan<float> row)
    {
        int k = 0;
        var best = Vector256<float>.Zero;
        ref float x = ref MemoryMarshal.GetReference(row);
        for (; k + Vector256<float>.Count <= row.Length; k += Vector256<float>.Count)
        {
            best = Vector256.Max(best, Vector256.Abs(Vector256.LoadUnsafe(ref x, (nuint)k)));
        }

        float max = 0;
        for (int i = 0; i < Vector256<float>.Count; i++)
        {
            max = MathF.Max(max, best[i]);
        }

        for (; k < row.Length; k++)
        {
            max = MathF.Max(max, MathF.Abs(row[k]));
        }

        return max;
    }

    private static void QuantizeRow(ReadOnlySpan<float> row, float scale, Span<sbyte> codes)
    {
        int k = 0;
        var s = Vector256.Create(scale);
        var low = Vector256.Create(-127f);
        var high = Vector256.Create(127f);
        ref float x = ref MemoryMarshal.GetReference(row);
        ref sbyte c = ref MemoryMarshal.GetReference(codes);
        // 32 codes per pass: four float vectors narrow to one sbyte vector. Vector256.Round is round-half-to-even,
        // like torch.round, and the clamp comes after rounding as in the reference.
        for (; k + 32 <= row.Length; k += 32)
        {
            var i0 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)k) / s), low), high));
            var i1 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)k + 8) / s), low), high));
            var i2 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)k + 16) / s), low), high));
            var i3 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)k + 24) / s), low), high));
            Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).StoreUnsafe(ref c, (nuint)k);
        }

        for (; k < row.Length; k++)
        {
            codes[k] = (sbyte)Math.Clamp(MathF.Round(row[k] / scale, MidpointRounding.ToEven), -127f, 127f);
        }
    }

    private static int[] RowSums(DeviceTensor weight)
    {
        var w = ((CpuTensor)weight).Span<sbyte>();
        var sums = new int[weight.Rows];
        for (int n = 0; n < sums.Length; n++)
        {
            int sum = 0;
            foreach (sbyte value in w.Slice(n * weight.Columns, weight.Columns))
            {
                sum += value;
            }

            sums[n] = sum;
        }

        return sums;
    }

    private static int DotScalar(ref sbyte a, ref sbyte w, int inner)
    {
        int sum = 0;
        for (int k = 0; k < inner; k++)
        {
            sum += Unsafe.Add(ref a, k) * Unsafe.Add(ref w, k);
        }

        return sum;
    }

    private static Vector128<int> Dot4Scalar(ref sbyte a, ref sbyte rows, int inner) => Vector128.Create(
        DotScalar(ref a, ref rows, inner),
        DotScalar(ref a, ref Unsafe.Add(ref rows, inner), inner),
        DotScalar(ref a, ref Unsafe.Add(ref rows, 2 * inner), inner),
        DotScalar(ref a, ref Unsafe.Add(ref rows, 3 * inner), inner));

    // vpmaddwd on sign-extended int16 (not vpmaddubsw, whose int16 pair sums saturate for s8 × s8).
    private static Vector128<int> Dot4Avx2(ref sbyte a, ref sbyte rows, int inner)
    {
        ref sbyte w0 = ref rows;
        ref sbyte w1 = ref Unsafe.Add(ref rows, inner);
        ref sbyte w2 = ref Unsafe.Add(ref rows, 2 * inner);
        ref sbyte w3 = ref Unsafe.Add(ref rows, 3 * inner);
        Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
        int k = 0;
        for (; k + 16 <= inner; k += 16)
        {
            var x = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, (nuint)k));
            s0 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref w0, (nuint)k)));
            s1 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref w1, (nuint)k)));
            s2 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref w2, (nuint)k)));
            s3 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref w3, (nuint)k)));
        }

        return Vector128.Create(Vector256.Sum(s0), Vector256.Sum(s1), Vector256.Sum(s2), Vector256.Sum(s3))
            + Tail4(ref a, ref rows, k, inner);
    }

    private static Vector128<int> Dot4Avx512(ref sbyte a, ref sbyte rows, int inner)
    {
        ref sbyte w0 = ref rows;
        ref sbyte w1 = ref Unsafe.Add(ref rows, inner);
        ref sbyte w2 = ref Unsafe.Add(ref rows, 2 * inner);
        ref sbyte w3 = ref Unsafe.Add(ref rows, 3 * inner);
        Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
        int k = 0;
        for (; k + 32 <= inner; k += 32)
        {
            var x = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref a, (nuint)k));
            s0 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w0, (nuint)k)));
            s1 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w1, (nuint)k)));
            s2 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w2, (nuint)k)));
            s3 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w3, (nuint)k)));
        }

        return Vector128.Create(Vector512.Sum(s0), Vector512.Sum(s1), Vector512.Sum(s2), Vector512.Sum(s3))
            + Tail4(ref a, ref rows, k, inner);
    }

    // vpdpbusd multiplies unsigned by signed bytes, so activations go in as q + 128 (a sign-bit flip) and the caller
    // subtracts 128·Σₖ w[n, k]; the scalar tail uses the same offset so that one correction covers all of K.
    private static Vector128<int> Dot4AvxVnni(ref sbyte a, ref sbyte rows, int inner)
    {
        ref sbyte w0 = ref rows;
        ref sbyte w1 = ref Unsafe.Add(ref rows, inner);
        ref sbyte w2 = ref Unsafe.Add(ref rows, 2 * inner);
        ref sbyte w3 = ref Unsafe.Add(ref rows, 3 * inner);
        var flip = Vector256.Create((byte)0x80);
        Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
        int k = 0;
        for (; k + 32 <= inner; k += 32)
        {
            var x = Vector256.LoadUnsafe(ref a, (nuint)k).AsByte() ^ flip;
            s0 = AvxVnni.MultiplyWideningAndAdd(s0, x, Vector256.LoadUnsafe(ref w0, (nuint)k));
            s1 = AvxVnni.MultiplyWideningAndAdd(s1, x, Vector256.LoadUnsafe(ref w1, (nuint)k));
            s2 = AvxVnni.MultiplyWideningAndAdd(s2, x, Vector256.LoadUnsafe(ref w2, (nuint)k));
            s3 = AvxVnni.MultiplyWideningAndAdd(s3, x, Vector256.LoadUnsafe(ref w3, (nuint)k));
        }

        var sums = Vector128.Create(Vector256.Sum(s0), Vector256.Sum(s1), Vector256.Sum(s2), Vector256.Sum(s3));
        for (; k < inner; k++)
        {
            int shifted = Unsafe.Add(ref a, k) + 128;
            sums += shifted * Vector128.Create(Unsafe.Add(ref w0, k), Unsafe.Add(ref w1, k), Unsafe.Add(ref w2, k), Unsafe.Add(ref w3, k));
        }

        return sums;
    }

    private static Vector128<int> Tail4(ref sbyte a, ref sbyte rows, int k, int inner)
    {
        var sums = Vector128<int>.Zero;
        for (; k < inner; k++)
        {
            int x = Unsafe.Add(ref a, k);
            sums += x * Vector128.Create(Unsafe.Add(ref rows, k), Unsafe.Add(ref rows, inner + k),
                Unsafe.Add(ref rows, 2 * inner + k), Unsafe.Add(ref rows, 3 * inner + k));
        }

        return sums;
    }
}
