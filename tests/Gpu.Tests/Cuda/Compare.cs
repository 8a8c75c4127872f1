using OrleansQuant.Gpu.Cuda;
namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>Random inputs and the tolerance checks the CUDA tests share.</summary>
internal static class Compare
{
    /// <summary>
    /// Every element within <paramref name="tolerance"/> relative: |actual − expected| ≤ tolerance · (|expected| + rms),
    /// where rms is the expected tensor's root mean square, so elements near zero are judged on the tensor's scale.
    /// </summary>
    public static void Close(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double rms = Math.Sqrt(expected.Sum(e => (double)e * e) / Math.Max(1, expected.Length));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]) / (Math.Abs(expected[i]) + rms + 1e-30);
            if (!(error <= worst))
            {
                worst = error;
                at = i;
            }
        }

        Assert.True(worst <= tolerance,
            $"{what}: element {at} is {actual[Math.Max(at, 0)]} on the GPU, {expected[Math.Max(at, 0)]} on the CPU: relative error {worst:E2} > {tolerance:E0}");
    }

    /// <summary>Equal bit for bit: bits, not float equality, since −0 and +0, or two NaNs, would pass ==.</summary>
    public static void SameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatch = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(expected.AsSpan())
            .CommonPrefixLength(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(actual.AsSpan()));
        Assert.True(mismatch == expected.Length,
            $"{what}: output {mismatch} differs: expected {expected.ElementAtOrDefault(mismatch)}, got {actual.ElementAtOrDefault(mismatch)}");
    }

    public static float[] Floats(Random random, int count, float scale = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    public static sbyte[] Codes(Random random, int count)
    {
        var values = new sbyte[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (sbyte)random.Next(-127, 128);
        }

        return values;
    }

    /// <summary>A seed printed into failure messages by the caller's use, fresh each run.</summary>
    public static Random Fresh(out int seed)
    {
        seed = Random.Shared.Next();
        return new Random(seed);
    }

    /// <summary>
    /// Milliseconds per call of <paramref name="call"/>: <paramref name="warmup"/> calls, a synchronize, then the mean of
    /// <paramref name="iterations"/> calls between two CUDA events.
    /// </summary>
    public static float MeanMilliseconds(CudaDevice gpu, Action call, int warmup, int iterations)
    {
        for (int i = 0; i < warmup; i++)
        {
            call();
        }

        gpu.Synchronize();
        return gpu.MeasureMilliseconds(() =>
        {
            for (int i = 0; i < iterations; i++)
            {
                call();
            }
        }) / iterations;
    }

    /// <summary>About 0.2 s of int8 GEMMs, so the clocks have left idle before a timing test's first figure.</summary>
    public static void SpinUp(CudaDevice gpu)
    {
        var random = new Random(7);
        using var q = gpu.UploadNew<sbyte>(Codes(random, 2048 * 4096), 2048, 4096);
        using var w = gpu.UploadNew<sbyte>(Codes(random, 8192 * 4096), 8192, 4096);
        using var sums = gpu.Allocate(TensorType.Int32, 2048, 8192);
        for (int i = 0; i < 2000; i++)
        {
            gpu.Int8Gemm(q, w, sums);
        }

        gpu.Synchronize();
    }
}
