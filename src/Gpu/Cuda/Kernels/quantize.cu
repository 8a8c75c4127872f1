// Dynamic symmetric per-token int8 quantization (vLLM scaled_int8_quant without a static scale). The steps are the
// contract's, in float32 and without fused multiply-adds or reciprocals, so codes and scales equal the CPU device's
// bit for bit: scale = max(absmax / 127, 1e-8); code = clamp(round-half-even(x / scale), -127, 127).
#include "common.cuh"

extern "C" __global__ void quantize_per_token(const float* x, signed char* codes, float* scales, int width)
{
    __shared__ float scratch[32];
    const float* row = x + (long long)blockIdx.x * width;
    signed char* target = codes + (long long)blockIdx.x * width;
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) absmax = fmaxf(absmax, fabsf(row[i]));
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float code = fminf(fmaxf(rintf(__fdiv_rn(row[i], scale)), -127.0f), 127.0f);
        target[i] = (signed char)(int)code;
    }
}

// The same, for rows of a multiple of 4 floats (x 16-byte and codes 4-byte aligned): float4 loads, char4 stores, and
// up to QUANT_CACHE float4 per thread held in registers between the absmax and the rounding, so each row is read from
// memory once and all of a thread's loads are in flight together. Elements past blockDim.x × QUANT_CACHE float4 are
// read twice. The max is exact in any order, so codes and scales are those of the kernel above, bit for bit.
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

extern "C" __global__ void quantize_per_token_v4(const float4* __restrict__ x, char4* __restrict__ codes, float* __restrict__ scales, int width4)
{
    __shared__ float scratch[32];
    const float4* row = x + (long long)blockIdx.x * width4;
    char4* target = codes + (long long)blockIdx.x * width4;
    float4 cache[QUANT_CACHE];
    float absmax = 0.0f;
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i < width4) cache[j] = row[i];
        else cache[j].x = cache[j].y = cache[j].z = cache[j].w = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++) absmax = abs_max4(absmax, cache[j]);
    for (int i = threadIdx.x + QUANT_CACHE * blockDim.x; i < width4; i += blockDim.x) absmax = abs_max4(absmax, row[i]);
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
#pragma unroll
    for (int j = 0; j < QUANT_CACHE; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i < width4) target[i] = codes_of(cache[j], scale);
    }
    for (int i = threadIdx.x + QUANT_CACHE * blockDim.x; i < width4; i += blockDim.x) target[i] = codes_of(row[i], scale);
}
