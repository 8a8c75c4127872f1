// FillNormal: counter-based normal samples, element i from (seed, i) alone, so any split of the work gives the same
// tensor. SplitMix64 (Steele, Lea and Flood 2014) advanced once from the state seed ^ (i * golden ratio) gives 64 bits;
// u1 = (high 32 bits + 1) / 2^32 in (0, 1], u2 = (low 32 bits) / 2^32 in [0, 1); x = std * sqrt(-2 ln u1) * cos(2 pi u2)
// (Box–Muller), in double, rounded once to float.

__device__ __forceinline__ unsigned long long splitmix64(unsigned long long state)
{
    unsigned long long z = state + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

extern "C" __global__ void fill_normal(float* x, long long count, unsigned long long seed, double std)
{
    const double two32 = 4294967296.0;
    const double twoPi = 6.283185307179586;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        unsigned long long bits = splitmix64(seed ^ ((unsigned long long)i * 0x9E3779B97F4A7C15ull));
        double u1 = ((double)(bits >> 32) + 1.0) / two32;
        double u2 = (double)(bits & 0xffffffffull) / two32;
        double radius = sqrt(-2.0 * log(u1));
        x[i] = __double2float_rn(__dmul_rn(__dmul_rn(std, radius), cos(__dmul_rn(twoPi, u2))));
    }
}
