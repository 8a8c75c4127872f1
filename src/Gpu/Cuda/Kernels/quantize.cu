// Dynamic symmetric per-token int8 quantization (vLLM scaled_int8_quant without a static scale). The steps are the
// contract's, in float32 and without fused multiply-adds or reciprocals, so codes and scales equal the CPU device's
// bit for bit: scale = max(absmax / 127, 1e-8); code = clamp(round-half-even(x / scale), -127, 127).
// x is float or bf16 (the twins ending "_bf16"): a bf16 is widened exactly on load, so a bf16 row gives the codes
// and scale of the same row widened to float, bit for bit.
#include "common.cuh"
#include "act_vector.cuh"

template <typename In>
__device__ __forceinline__ void quantize_row(const In* x, signed char* codes, float* scales, int width)
{
    __shared__ float scratch[32];
    allow_dependent_launch();
    long long start = (long long)blockIdx.x * width;
    signed char* target = codes + start;
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) absmax = fmaxf(absmax, fabsf(load_act(x, start + i)));
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float code = fminf(fmaxf(rintf(__fdiv_rn(load_act(x, start + i), scale)), -127.0f), 127.0f);
        target[i] = (signed char)(int)code;
    }
}

extern "C" __global__ void quantize_per_token(const float* x, signed char* codes, float* scales, int width) { quantize_row(x, codes, scales, width); }
extern "C" __global__ void quantize_per_token_bf16(const bf16_bits* x, signed char* codes, float* scales, int width) { quantize_row(x, codes, scales, width); }

// The same, for rows of a multiple of 4 elements (x 16-byte aligned for float, 8-byte for bf16; codes 4-byte): loads
// of 4 elements (a float4, or 4 bf16 in 8 bytes), char4 stores, and up to QUANT_CACHE such groups per thread held in
// registers (as float4) between the absmax and the rounding, so each row is read from memory once and all of a
// thread's loads are in flight together. Groups past blockDim.x × QUANT_CACHE are read twice. The max is exact in
// any order, so codes and scales are those of the kernel above, bit for bit.
#define QUANT_CACHE 8

__device__ __forceinline__ float abs_max4(float m, float4 v)
{
    return fmaxf(m, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
}

__device__ __forceinline__ signed char code_of(float v, float scale)
{
    return (signed char)(int)fminf(fmaxf(rintf(__fdiv_rn(v, scale)), -127.0f), 127.0f);
}

__device__ __forceinline__ char4 codes_of(float4 v, float scale)
{
    char4 c;
    c.x = code_of(v.x, scale);
    c.y = code_of(v.y, scale);
    c.z = code_of(v.z, scale);
    c.w = code_of(v.w, scale);
    return c;
}

// width4 counts groups of 4 elements; x holds rows of 4 × width4 elements.
template <typename In>
__device__ __forceinline__ void quantize_row_v4(const In* __restrict__ x, char4* __restrict__ codes, float* __restrict__ scales, int width4)
{
    __shared__ float scratch[32];
    allow_dependent_launch();
    long long start = (long long)blockIdx.x * width4; // in groups of 4
    char4* target = codes + start;
    float4 cache[QUANT_CACHE];
    float absmax = 0.0f;
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i < width4) cache[j] = load_act4(x, start + i);
        else cache[j].x = cache[j].y = cache[j].z = cache[j].w = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++) absmax = abs_max4(absmax, cache[j]);
    for (int i = threadIdx.x + QUANT_CACHE * blockDim.x; i < width4; i += blockDim.x) absmax = abs_max4(absmax, load_act4(x, start + i));
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i < width4) target[i] = codes_of(cache[j], scale);
    }
    for (int i = threadIdx.x + QUANT_CACHE * blockDim.x; i < width4; i += blockDim.x) target[i] = codes_of(load_act4(x, start + i), scale);
}

extern "C" __global__ void quantize_per_token_v4(const float* __restrict__ x, char4* __restrict__ codes, float* __restrict__ scales, int width4)
{
    quantize_row_v4(x, codes, scales, width4);
}

extern "C" __global__ void quantize_per_token_v4_bf16(const bf16_bits* __restrict__ x, char4* __restrict__ codes, float* __restrict__ scales, int width4)
{
    quantize_row_v4(x, codes, scales, width4);
}
