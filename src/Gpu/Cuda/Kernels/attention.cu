// Paged, varlen causal grouped-query attention: the general fallback for head dims and group sizes without a fast
// path (paged_attention.cu has those). One block per (query row, head), an online softmax (Milakov and Gimelshein
// 2018) over key steps so any context runs in fixed shared memory. Row r belongs to the sequence s with
// queryStarts[s] <= r < queryStarts[s+1]; it sits at position contextLengths[s] - (queryStarts[s+1] - r) and attends to
// the cached positions [max(0, position - window + 1), position] (window 0: none), found through blockTables[s].
// The caches are fp32 (paged_attention_generic) or bf16 (paged_attention_generic_bf16, widened exactly when read).
// Query and output (activations, one type A) are fp32 or bf16 (the _abf16 twins of both, "_bf16" already naming the
// caches): a bf16 query is widened exactly, and a bf16 output is the fp32 one rounded once as it is stored.
#include "common.cuh"
#include "bfloat16.cuh"

#define KEYS_PER_STEP 128
#define MAX_DIMS_PER_THREAD 4

__device__ __forceinline__ float cache_value(float v) { return v; }
__device__ __forceinline__ float cache_value(bf16_bits v) { return bf16_to_float(v); }

template <typename T, typename A>
__device__ __forceinline__ void paged_attention_generic_impl(const A* query, const T* keys, const T* values, A* output,
    const int* queryStarts, const int* contextLengths, const int* blockTables, int sequences, int maxBlocks, int blockSize,
    int heads, int kvHeads, int headDim, int window, float scale)
{
    extern __shared__ float shared[];
    float* q = shared;                    // [headDim]
    float* weights = shared + headDim;    // [KEYS_PER_STEP]
    __shared__ float scratch[32];
    __shared__ int slots[KEYS_PER_STEP];

    int row = blockIdx.x, h = blockIdx.y, kvHead = h / (heads / kvHeads);
    // The sequence owning this row: the last s with queryStarts[s] <= row.
    int lo = 0, hi = sequences - 1;
    while (lo < hi)
    {
        int mid = (lo + hi + 1) >> 1;
        if (queryStarts[mid] <= row) lo = mid; else hi = mid - 1;
    }
    int s = lo;
    int queryEnd = queryStarts[s + 1];
    if (row < queryStarts[s] || row >= queryEnd) return;
    const int* table = blockTables + (long long)s * maxBlocks;
    int queryWidth = heads * headDim, kvWidth = kvHeads * headDim;
    int position = contextLengths[s] - (queryEnd - row);
    int start = window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
    const A* queryVector = query + (long long)row * queryWidth + h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) q[d] = load_act(queryVector, d);

    float accumulator[MAX_DIMS_PER_THREAD];
    for (int r = 0; r < MAX_DIMS_PER_THREAD; r++) accumulator[r] = 0.0f;
    float runningMax = __int_as_float(0xff800000), runningSum = 0.0f;
    for (int j0 = start; j0 <= position; j0 += KEYS_PER_STEP)
    {
        int j = j0 + threadIdx.x;
        if (threadIdx.x < KEYS_PER_STEP && j <= position)
            slots[threadIdx.x] = table[j / blockSize] * blockSize + j % blockSize;
        __syncthreads();
        float score = __int_as_float(0xff800000);
        if (threadIdx.x < KEYS_PER_STEP && j <= position)
        {
            const T* key = keys + (long long)slots[threadIdx.x] * kvWidth + kvHead * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) dot += q[d] * cache_value(key[d]);
            score = dot * scale;
        }

        float newMax = fmaxf(runningMax, block_max(score, scratch));
        float weight = j <= position && threadIdx.x < KEYS_PER_STEP ? expf(score - newMax) : 0.0f;
        if (threadIdx.x < KEYS_PER_STEP) weights[threadIdx.x] = weight;
        // block_sum's barriers also publish weights[] to the whole block.
        float stepSum = block_sum(weight, scratch);
        float correction = expf(runningMax - newMax);
        runningSum = runningSum * correction + stepSum;
        runningMax = newMax;

        int count = position + 1 - j0 < KEYS_PER_STEP ? position + 1 - j0 : KEYS_PER_STEP;
        for (int r = 0; r < MAX_DIMS_PER_THREAD; r++)
        {
            int d = threadIdx.x + r * blockDim.x;
            if (d < headDim)
            {
                float sum = accumulator[r] * correction;
                const T* value = values + kvHead * headDim + d;
                for (int jj = 0; jj < count; jj++) sum += weights[jj] * cache_value(value[(long long)slots[jj] * kvWidth]);
                accumulator[r] = sum;
            }
        }

        __syncthreads();
    }

    A* target = output + (long long)row * queryWidth + h * headDim;
    for (int r = 0; r < MAX_DIMS_PER_THREAD; r++)
    {
        int d = threadIdx.x + r * blockDim.x;
        if (d < headDim) store_act(target, d, accumulator[r] / runningSum);
    }
}

#define GENERIC_PASS query, keys, values, output, queryStarts, contextLengths, blockTables, sequences, maxBlocks, blockSize, \
    heads, kvHeads, headDim, window, scale

extern "C" __global__ void paged_attention_generic(const float* query, const float* keys, const float* values, float* output,
    const int* queryStarts, const int* contextLengths, const int* blockTables, int sequences, int maxBlocks, int blockSize,
    int heads, int kvHeads, int headDim, int window, float scale)
{
    paged_attention_generic_impl<float, float>(GENERIC_PASS);
}

extern "C" __global__ void paged_attention_generic_bf16(const float* query, const bf16_bits* keys, const bf16_bits* values,
    float* output, const int* queryStarts, const int* contextLengths, const int* blockTables, int sequences, int maxBlocks,
    int blockSize, int heads, int kvHeads, int headDim, int window, float scale)
{
    paged_attention_generic_impl<bf16_bits, float>(GENERIC_PASS);
}

extern "C" __global__ void paged_attention_generic_abf16(const bf16_bits* query, const float* keys, const float* values,
    bf16_bits* output, const int* queryStarts, const int* contextLengths, const int* blockTables, int sequences, int maxBlocks,
    int blockSize, int heads, int kvHeads, int headDim, int window, float scale)
{
    paged_attention_generic_impl<float, bf16_bits>(GENERIC_PASS);
}

extern "C" __global__ void paged_attention_generic_bf16_abf16(const bf16_bits* query, const bf16_bits* keys, const bf16_bits* values,
    bf16_bits* output, const int* queryStarts, const int* contextLengths, const int* blockTables, int sequences, int maxBlocks,
    int blockSize, int heads, int kvHeads, int headDim, int window, float scale)
{
    paged_attention_generic_impl<bf16_bits, bf16_bits>(GENERIC_PASS);
}
