namespace OrleansQuant.Gpu;

/// <summary>
/// The counter-based normal generator behind <see cref="IComputeDevice.FillNormal"/>, written out once so every device
/// (and every test) computes element i the same way: SplitMix64 (Steele et al. 2014) of seed ⊕ (i · φ64) — with its
/// usual first step, state += φ64 — gives 64 bits; the high 32 bits give u1 = (hi + 1)·2⁻³² ∈ (0, 1] (never 0, so the
/// log is finite), the low 32 bits give u2 = lo·2⁻³² ∈ [0, 1), and x = (std · sqrt(−2 ln u1)) · cos(2π u2) (Box–Muller,
/// cosine branch only) in double, rounded once to float — as the CUDA kernel (random.cu) computes it, so the devices
/// agree on the 64 bits exactly and on the value up to the last bits of the libraries' double log/cos.
/// </summary>
public static class CounterNormal
{
    /// <summary>φ64 = 2⁶⁴ / golden ratio: SplitMix64's increment, also used to spread the counter.</summary>
    public const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private const double TwoTo32 = 4294967296.0;

    /// <summary>The 64 random bits of element <paramref name="index"/> under <paramref name="seed"/>.</summary>
    public static ulong Bits(ulong seed, ulong index)
    {
        ulong z = (seed ^ (index * GoldenGamma)) + GoldenGamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Element <paramref name="index"/>'s normal sample with standard deviation <paramref name="std"/>.</summary>
    public static float Sample(ulong seed, ulong index, float std)
    {
        ulong bits = Bits(seed, index);
        double u1 = ((bits >> 32) + 1.0) / TwoTo32;
        double u2 = (uint)bits / TwoTo32;
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        return (float)((std * radius) * Math.Cos(2.0 * Math.PI * u2));
    }
}
