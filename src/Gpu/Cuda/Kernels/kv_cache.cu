// vLLM's reshape_and_cache for a flat paged cache: row t of keys/values [T, width] goes to row slots[t] of the caches
// [blocks * blockSize, width]. A negative slot (padding) writes nothing. One block per row, float4 where aligned.
// write_kv_cache_bf16 is the same for bf16 caches: each float rounded to nearest, ties to even (BFloat16.RoundBits).
#include "bfloat16.cuh"

extern "C" __global__ void write_kv_cache(const float* keys, const float* values, const int* slots, float* keyCache,
    float* valueCache, int width)
{
    int slot = slots[blockIdx.x];
    if (slot < 0) return;
    const float* k = keys + (long long)blockIdx.x * width;
    const float* v = values + (long long)blockIdx.x * width;
    float* kc = keyCache + (long long)slot * width;
    float* vc = valueCache + (long long)slot * width;
    if ((width & 3) == 0)
    {
        for (int i = threadIdx.x; i < width / 4; i += blockDim.x)
        {
            ((float4*)kc)[i] = ((const float4*)k)[i];
            ((float4*)vc)[i] = ((const float4*)v)[i];
        }
    }
    else
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x)
        {
            kc[i] = k[i];
            vc[i] = v[i];
        }
    }
}

// Four floats → four bf16 in one 8-byte word, the lower index in the lower half (little endian, as in memory).
__device__ __forceinline__ uint2 bf16x4_of(float4 f)
{
    uint2 packed;
    packed.x = (unsigned int)float_to_bf16(f.x) | ((unsigned int)float_to_bf16(f.y) << 16);
    packed.y = (unsigned int)float_to_bf16(f.z) | ((unsigned int)float_to_bf16(f.w) << 16);
    return packed;
}

extern "C" __global__ void write_kv_cache_bf16(const float* keys, const float* values, const int* slots, bf16_bits* keyCache,
    bf16_bits* valueCache, int width)
{
    int slot = slots[blockIdx.x];
    if (slot < 0) return;
    const float* k = keys + (long long)blockIdx.x * width;
    const float* v = values + (long long)blockIdx.x * width;
    bf16_bits* kc = keyCache + (long long)slot * width;
    bf16_bits* vc = valueCache + (long long)slot * width;
    if ((width & 3) == 0) // rows start 16-byte aligned in the inputs, 8-byte aligned in the caches
    {
        for (int i = threadIdx.x; i < width / 4; i += blockDim.x)
        {
            ((uint2*)kc)[i] = bf16x4_of(((const float4*)k)[i]);
            ((uint2*)vc)[i] = bf16x4_of(((const float4*)v)[i]);
        }
    }
    else
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x)
        {
            kc[i] = float_to_bf16(k[i]);
            vc[i] = float_to_bf16(v[i]);
        }
    }
}
