// Vector loads and stores of activations, float or bf16 (bfloat16.cuh's load_act / store_act, two or four elements
// at a time): where a float kernel moves a float2 or float4, its bf16 twin moves the same elements packed into 4 or 8
// bytes, so it moves half the bytes in as few instructions. Element i of a pack is at the lower address, i.e. in the
// low half of the packed word (little-endian), as the elements lie in memory.
//
// Indices count packs, not elements: pack i of a pair holds elements 2i and 2i + 1. The caller guarantees alignment:
// 8 or 16 bytes for float2 / float4, 4 or 8 bytes for 2 or 4 bf16. A bf16 store rounds each float once (to nearest,
// ties to even), as store_act does.
#pragma once
#include "bfloat16.cuh"

__device__ __forceinline__ float bf16_low(unsigned int packed) { return bf16_to_float((bf16_bits)(packed & 0xffffu)); }
__device__ __forceinline__ float bf16_high(unsigned int packed) { return bf16_to_float((bf16_bits)(packed >> 16)); }
__device__ __forceinline__ unsigned int bf16_pack(float low, float high)
{
    return (unsigned int)float_to_bf16(low) | ((unsigned int)float_to_bf16(high) << 16);
}

__device__ __forceinline__ float2 load_act2(const float* p, long long i) { return reinterpret_cast<const float2*>(p)[i]; }
__device__ __forceinline__ float2 load_act2(const bf16_bits* p, long long i)
{
    unsigned int v = reinterpret_cast<const unsigned int*>(p)[i];
    return make_float2(bf16_low(v), bf16_high(v));
}

__device__ __forceinline__ void store_act2(float* p, long long i, float2 v) { reinterpret_cast<float2*>(p)[i] = v; }
__device__ __forceinline__ void store_act2(bf16_bits* p, long long i, float2 v) { reinterpret_cast<unsigned int*>(p)[i] = bf16_pack(v.x, v.y); }

__device__ __forceinline__ float4 load_act4(const float* p, long long i) { return reinterpret_cast<const float4*>(p)[i]; }
__device__ __forceinline__ float4 load_act4(const bf16_bits* p, long long i)
{
    uint2 v = reinterpret_cast<const uint2*>(p)[i];
    return make_float4(bf16_low(v.x), bf16_high(v.x), bf16_low(v.y), bf16_high(v.y));
}

__device__ __forceinline__ void store_act4(float* p, long long i, float4 v) { reinterpret_cast<float4*>(p)[i] = v; }
__device__ __forceinline__ void store_act4(bf16_bits* p, long long i, float4 v)
{
    reinterpret_cast<uint2*>(p)[i] = make_uint2(bf16_pack(v.x, v.y), bf16_pack(v.z, v.w));
}

// One element as it is held (for code that loads and stores through its own typed pointer, as the float kernels did
// before they had a bf16 twin, so their float instantiation compiles to the same code): act_float widens exactly,
// act_element<Out> gives what a store of the float writes (rounded once for bf16).
__device__ __forceinline__ float act_float(float v) { return v; }
__device__ __forceinline__ float act_float(bf16_bits v) { return bf16_to_float(v); }

template <typename Out> __device__ __forceinline__ Out act_element(float v);
template <> __device__ __forceinline__ float act_element<float>(float v) { return v; }
template <> __device__ __forceinline__ bf16_bits act_element<bf16_bits>(float v) { return float_to_bf16(v); }
