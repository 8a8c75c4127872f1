// vLLM's reshape_and_cache for a flat paged cache: row t of keys/values [T, width] goes to row slots[t] of the caches
// [blocks * blockSize, width]. A negative slot (padding) writes nothing. One block per row, 16 or 8 bytes at a time
// where the width allows.
// Keys and values (activations) are float or bf16; the caches float or bf16. Each element is widened exactly and
// rounded to nearest, ties to even (BFloat16.RoundBits) when the cache is bf16, so a bf16 cache holds the same bits
// whichever type the keys came in. Names: write_kv_cache[_bf16 for bf16 caches][_abf16 for bf16 keys and values]
// ("_bf16" already names the caches here, so the activation twins take "_abf16", as the attention kernels' do).
#include "bfloat16.cuh"

// Four floats → four bf16 in one 8-byte word, the lower index in the lower half (little endian, as in memory).
__device__ __forceinline__ uint2 bf16x4_of(float4 f)
{
    uint2 packed;
    packed.x = (unsigned int)float_to_bf16(f.x) | ((unsigned int)float_to_bf16(f.y) << 16);
    packed.y = (unsigned int)float_to_bf16(f.z) | ((unsigned int)float_to_bf16(f.w) << 16);
    return packed;
}

// Elements 4i..4i+3 of a row as floats, and back: a float4 (16 bytes), or four bf16 in 8 bytes.
__device__ __forceinline__ float4 load4(const float* row, int i) { return ((const float4*)row)[i]; }
__device__ __forceinline__ float4 load4(const bf16_bits* row, int i)
{
    uint2 packed = ((const uint2*)row)[i];
    return make_float4(__uint_as_float(packed.x << 16), __uint_as_float(packed.x & 0xffff0000u),
        __uint_as_float(packed.y << 16), __uint_as_float(packed.y & 0xffff0000u));
}

__device__ __forceinline__ void store4(float* row, int i, float4 v) { ((float4*)row)[i] = v; }
__device__ __forceinline__ void store4(bf16_bits* row, int i, float4 v) { ((uint2*)row)[i] = bf16x4_of(v); }

template <typename A, typename C>
__device__ __forceinline__ void write_kv_cache_of(const A* keys, const A* values, const int* slots, C* keyCache,
    C* valueCache, int width)
{
    int slot = slots[blockIdx.x];
    if (slot < 0) return;
    const A* k = keys + (long long)blockIdx.x * width;
    const A* v = values + (long long)blockIdx.x * width;
    C* kc = keyCache + (long long)slot * width;
    C* vc = valueCache + (long long)slot * width;
    if ((width & 3) == 0) // every row then starts 16-byte aligned in a float tensor, 8-byte aligned in a bf16 one
    {
        for (int i = threadIdx.x; i < width / 4; i += blockDim.x)
        {
            store4(kc, i, load4(k, i));
            store4(vc, i, load4(v, i));
        }
    }
    else
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x)
        {
            store_act(kc, i, load_act(k, i));
            store_act(vc, i, load_act(v, i));
        }
    }
}

extern "C" __global__ void write_kv_cache(const float* keys, const float* values, const int* slots, float* keyCache,
    float* valueCache, int width)
{
    write_kv_cache_of(keys, values, slots, keyCache, valueCache, width);
}

extern "C" __global__ void write_kv_cache_bf16(const float* keys, const float* values, const int* slots, bf16_bits* keyCache,
    bf16_bits* valueCache, int width)
{
    write_kv_cache_of(keys, values, slots, keyCache, valueCache, width);
}

extern "C" __global__ void write_kv_cache_abf16(const bf16_bits* keys, const bf16_bits* values, const int* slots, float* keyCache,
    float* valueCache, int width)
{
    write_kv_cache_of(keys, values, slots, keyCache, valueCache, width);
}

extern "C" __global__ void write_kv_cache_bf16_abf16(const bf16_bits* keys, const bf16_bits* values, const int* slots,
    bf16_bits* keyCache, bf16_bits* valueCache, int width)
{
    write_kv_cache_of(keys, values, slots, keyCache, valueCache, width);
}
