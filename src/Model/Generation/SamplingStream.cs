using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// The host half of sampling for one sequence: its validated options and its seeded draws. Each step it gives the
/// <see cref="SamplingRow"/> the device picks this sequence's token with (<see cref="IComputeDevice.SampleTokens"/>:
/// temperature → top-k → top-p → the draw), so a seeded sequence gets the same tokens whatever else shares its batch and
/// wherever its head runs.
/// </summary>
/// <remarks>
/// The draw for generated token <c>i</c> is output <c>i</c> of SplitMix64 (Steele, Lea and Flood, "Fast Splittable
/// Pseudorandom Number Generators", OOPSLA 2014) for the seed, which is a function of the seed and <c>i</c> alone. So a
/// draw never depends on the ones taken before it: a step that failed and is run again draws what it drew, and a
/// request that continues <c>k</c> delivered tokens (<see cref="SamplingOptions.SeedOffset"/> <c>k</c>) draws what the
/// uninterrupted one would have. An unseeded sequence takes a random seed of its own once.
/// </remarks>
public sealed class SamplingStream
{
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    private readonly SamplingOptions _options;
    private readonly ulong _seed;

    public SamplingStream(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _seed = options.Seed is int seed ? unchecked((ulong)seed) : unchecked((ulong)Random.Shared.NextInt64());
    }

    /// <summary>The row for the sequence's generated token <paramref name="index"/> (0 for its first); greedy rows take no draw.</summary>
    public SamplingRow Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return _options.IsGreedy
            ? SamplingRow.Greedy
            : new SamplingRow(_options.Temperature, _options.TopK, _options.TopP, Uniform(SplitMix64(_seed, _options.SeedOffset + (long)index)));
    }

    /// <summary>Output <paramref name="index"/> (from 0) of SplitMix64 started at <paramref name="seed"/>.</summary>
    public static ulong SplitMix64(ulong seed, long index)
    {
        ulong z = unchecked(seed + (ulong)(index + 1) * Gamma);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EB);
        return z ^ (z >> 31);
    }

    /// <summary>The top 53 bits as a double in [0, 1), every value equally likely.</summary>
    private static double Uniform(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));
}
