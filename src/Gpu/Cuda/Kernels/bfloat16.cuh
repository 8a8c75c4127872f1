// bfloat16 without the toolkit's cuda_bf16.h (NVRTC on a GPU node has no headers): a bf16 is the top half of a
// float's bits, held as an unsigned short. Narrowing rounds to nearest, ties to even, with integer arithmetic rather
// than cvt.rn.bf16.f32, so every architecture the device compiles for rounds exactly as the host's BFloat16 does.
#pragma once

typedef unsigned short bf16_bits;

// Exact: a bf16 is a float with 16 zero low bits.
__device__ __forceinline__ float bf16_to_float(bf16_bits v) { return __uint_as_float((unsigned int)v << 16); }

// Exact, and a NaN keeps its sign and payload and becomes quiet, as the host's float → double cast does.
__device__ __forceinline__ double bf16_to_double(bf16_bits v)
{
    if ((v & 0x7fffu) > 0x7f80u)
        return __longlong_as_double((long long)(((unsigned long long)(v & 0x8000u) << 48) | 0x7ff8000000000000ull | ((unsigned long long)(v & 0x7fu) << 45)));
    return (double)bf16_to_float(v);
}

// Round to nearest, ties to even (BFloat16.RoundBits). Truncating a NaN whose payload sits only in the low bits would
// give infinity, so a NaN is made quiet instead; overflow past the largest finite bf16 rounds to infinity.
__device__ __forceinline__ bf16_bits float_to_bf16(float f)
{
    unsigned int bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bf16_bits)((bits >> 16) | 0x0040u);
    return (bf16_bits)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// One rounding from double (BFloat16.FromDouble): double → float rounded to odd keeps a sticky bit below float's
// mantissa, so the second rounding to bf16 sees whether the double was above, below or on a bf16 tie; rounding to
// nearest twice could round a value just above a tie down to the tie and then to even.
__device__ __forceinline__ bf16_bits double_to_bf16(double v)
{
    // A NaN keeps its sign and top payload bits and becomes quiet, as the host's (float) cast then RoundBits do, in
    // integer arithmetic: whether a GPU's double → float conversion keeps a NaN's payload is not specified.
    if (v != v)
    {
        unsigned long long nan = (unsigned long long)__double_as_longlong(v);
        return (bf16_bits)(((nan >> 48) & 0x8000u) | 0x7fc0u | ((nan >> 45) & 0x7fu));
    }
    float nearest = __double2float_rn(v);
    unsigned int bits = __float_as_uint(nearest);
    bool infinite = (bits & 0x7fffffffu) == 0x7f800000u;
    if ((double)nearest != v && !infinite)
    {
        if (fabs((double)nearest) > fabs(v)) bits--; // one step toward zero: the truncated float
        bits |= 1u;                                   // round to odd
    }
    return float_to_bf16(__uint_as_float(bits));
}

// Activations are float or bf16 per tensor (IComputeDevice: "Activations"). Kernels are written once over the element
// type with these overloads and instantiated twice, the bf16 twin's extern "C" name ending in "_bf16": a bf16 load is
// exact, a bf16 store rounds the float once (to nearest, ties to even).
__device__ __forceinline__ float load_act(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float load_act(const bf16_bits* p, long long i) { return bf16_to_float(p[i]); }
__device__ __forceinline__ void store_act(float* p, long long i, float v) { p[i] = v; }
__device__ __forceinline__ void store_act(bf16_bits* p, long long i, float v) { p[i] = float_to_bf16(v); }

// The value a store to an activation of this type keeps: what a fused kernel uses where the unfused calls would have
// stored and reloaded an intermediate, so the two agree bit for bit.
__device__ __forceinline__ float round_act(float v, const float*) { return v; }
__device__ __forceinline__ float round_act(float v, const bf16_bits*) { return bf16_to_float(float_to_bf16(v)); }
