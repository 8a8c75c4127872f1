using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// The CPU device's FillNormal against its contract: normal samples of the asked standard deviation, the same values
/// however the tensor is shaped or the rows are split over threads, and unrelated values under another seed.
/// </summary>
public sealed class CpuFillNormalTests
{
    private const int Count = 1_000_000;

    [Fact]
    public void A_million_samples_have_the_asked_mean_std_and_normal_tails()
    {
        const float std = 0.37f;
        var values = Fill(new CpuDevice(), 1000, 1000, seed: 12345, std);

        double mean = values.Average(v => (double)v);
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (Count - 1));
        double beyondTwo = values.Count(v => Math.Abs(v) > 2 * std) / (double)Count;

        // Standard errors: mean std/√n = 3.7e-4, std ≈ std/√(2n) = 2.6e-4; four of them is far from a flake.
        Assert.InRange(mean, -4 * std / Math.Sqrt(Count), 4 * std / Math.Sqrt(Count));
        Assert.InRange(sd, std * (1 - 4 / Math.Sqrt(2.0 * Count)), std * (1 + 4 / Math.Sqrt(2.0 * Count)));

        // P(|x| > 2σ) = 4.55 % for a normal; a uniform or a clipped generator would miss it.
        Assert.InRange(beyondTwo, 0.0445, 0.0465);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_values_and_each_is_the_generators_element()
    {
        var first = Fill(new CpuDevice(), 300, 517, seed: 99, std: 2f);
        var second = Fill(new CpuDevice(), 300, 517, seed: 99, std: 2f);

        Assert.Equal(first, second);
        for (int i = 0; i < first.Length; i += 997)
        {
            Assert.Equal(CounterNormal.Sample(99, (ulong)i, 2f), first[i]);
        }
    }

    [Fact]
    public void Values_do_not_depend_on_the_shape_or_on_how_many_threads_split_the_rows()
    {
        var oneThread = Fill(new CpuDevice(maxThreads: 1), 1000, 1000, seed: 7, std: 1f);
        var manyThreads = Fill(new CpuDevice(maxThreads: 8), 1000, 1000, seed: 7, std: 1f);
        var tall = Fill(new CpuDevice(maxThreads: 3), 40_000, 25, seed: 7, std: 1f);
        var oneRow = Fill(new CpuDevice(maxThreads: 4), 1, Count, seed: 7, std: 1f);

        Assert.Equal(oneThread, manyThreads);
        Assert.Equal(oneThread, tall);
        Assert.Equal(oneThread, oneRow);
    }

    [Fact]
    public void Different_seeds_give_uncorrelated_values()
    {
        var a = Fill(new CpuDevice(), 1000, 1000, seed: 1, std: 1f);
        var b = Fill(new CpuDevice(), 1000, 1000, seed: 2, std: 1f);

        Assert.NotEqual(a, b);
        Assert.True(a.Zip(b).Count(p => p.First == p.Second) < 10, "two seeds gave many identical elements");

        // Neighbouring seeds must not give shifted copies of one stream either: correlation within 5/√n of zero.
        double correlation = a.Zip(b).Sum(p => (double)p.First * p.Second) / Count;
        Assert.InRange(correlation, -5 / Math.Sqrt(Count), 5 / Math.Sqrt(Count));
        double shifted = a.Skip(1).Zip(b).Sum(p => (double)p.First * p.Second) / (Count - 1);
        Assert.InRange(shifted, -5 / Math.Sqrt(Count), 5 / Math.Sqrt(Count));
    }

    [Fact]
    public void A_tensor_that_is_not_float32_or_a_negative_std_is_refused()
    {
        using var device = new CpuDevice();
        using var ints = device.Allocate(TensorType.Int32, 2, 2);
        using var floats = device.Allocate(TensorType.Float32, 2, 2);

        Assert.Throws<ArgumentException>(() => device.FillNormal(ints, 1, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.FillNormal(floats, 1, -1f));
    }

    private static float[] Fill(CpuDevice device, int rows, int columns, ulong seed, float std)
    {
        using (device)
        {
            using var tensor = device.Allocate(TensorType.Float32, rows, columns);
            device.FillNormal(tensor, seed, std);
            return tensor.ToArray<float>();
        }
    }
}
