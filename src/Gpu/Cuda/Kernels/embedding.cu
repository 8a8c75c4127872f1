// Embedding gather: output[t] = table[ids[t]], ids an Int32 device tensor, a Float32 or BFloat16 table (widened
// exactly), a Float32 output. One block per token. An id outside the vocabulary cannot be reported without a host
// round trip, so its row becomes NaN instead of reading stray memory.
#include "bfloat16.cuh"

__device__ __forceinline__ float embed_value(const float* row, int i) { return row[i]; }
__device__ __forceinline__ float embed_value(const bf16_bits* row, int i) { return bf16_to_float(row[i]); }

template <typename T>
__device__ __forceinline__ void embed_gather_of(const T* table, const int* ids, float* output, int width, int vocabulary)
{
    int id = ids[blockIdx.x];
    float* target = output + (long long)blockIdx.x * width;
    if ((unsigned)id >= (unsigned)vocabulary)
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = __int_as_float(0x7fc00000);
        return;
    }

    const T* source = table + (long long)id * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = embed_value(source, i);
}

extern "C" __global__ void embed_gather(const float* table, const int* ids, float* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}

extern "C" __global__ void embed_gather_bf16(const bf16_bits* table, const int* ids, float* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}
