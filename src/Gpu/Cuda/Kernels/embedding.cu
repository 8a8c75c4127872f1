// Embedding gather: output[t] = table[ids[t]], ids an Int32 device tensor, a Float32 or BFloat16 table (widened
// exactly), a Float32 or BFloat16 output (an activation: a bf16 one holds each widened value rounded once, which
// changes nothing but a signalling NaN's quiet bit). One block per token. An id outside the vocabulary cannot be
// reported without a host round trip, so its row becomes NaN instead of reading stray memory.
// Names: embed_gather[_bf16 for a bf16 table][_abf16 for a bf16 output]; "_bf16" already names the table here, so
// the activation twins take "_abf16", as the attention kernels' do.
#include "bfloat16.cuh"

template <typename T, typename A>
__device__ __forceinline__ void embed_gather_of(const T* table, const int* ids, A* output, int width, int vocabulary)
{
    int id = ids[blockIdx.x];
    A* target = output + (long long)blockIdx.x * width;
    if ((unsigned)id >= (unsigned)vocabulary)
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x) store_act(target, i, __int_as_float(0x7fc00000));
        return;
    }

    const T* source = table + (long long)id * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) store_act(target, i, load_act(source, i));
}

extern "C" __global__ void embed_gather(const float* table, const int* ids, float* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}

extern "C" __global__ void embed_gather_bf16(const bf16_bits* table, const int* ids, float* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}

extern "C" __global__ void embed_gather_abf16(const float* table, const int* ids, bf16_bits* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}

extern "C" __global__ void embed_gather_bf16_abf16(const bf16_bits* table, const int* ids, bf16_bits* output, int width, int vocabulary)
{
    embed_gather_of(table, ids, output, width, vocabulary);
}
