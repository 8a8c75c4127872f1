// Causal grouped-query attention of one sequence over its KV cache, with an online softmax (Milakov and Gimelshein
// 2018) so any context length runs in fixed shared memory. One block per (query row, head): a simple correct
// kernel; speed comes later. Query i sits at position kvLength - queryCount + i and attends to keys
// [max(0, position - window + 1), position] (window 0: no sliding window).
#include "common.cuh"

#define KEYS_PER_STEP 128
#define MAX_DIMS_PER_THREAD 4

extern "C" __global__ void attention_causal(const float* query, const float* keys, const float* values, float* output,
    int queryRow, int queryCount, int kvLength, int heads, int kvHeads, int headDim, int window, float scale)
{
    extern __shared__ float shared[];
    float* q = shared;                    // [headDim]
    float* weights = shared + headDim;    // [KEYS_PER_STEP]
    __shared__ float scratch[32];

    int i = blockIdx.x, h = blockIdx.y, kvHead = h / (heads / kvHeads);
    int queryWidth = heads * headDim, kvWidth = kvHeads * headDim;
    int position = kvLength - queryCount + i;
    int start = window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
    const float* queryVector = query + (long long)(queryRow + i) * queryWidth + h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) q[d] = queryVector[d];
    __syncthreads();

    float accumulator[MAX_DIMS_PER_THREAD];
    for (int r = 0; r < MAX_DIMS_PER_THREAD; r++) accumulator[r] = 0.0f;
    float runningMax = __int_as_float(0xff800000), runningSum = 0.0f;
    for (int j0 = start; j0 <= position; j0 += KEYS_PER_STEP)
    {
        int j = j0 + threadIdx.x;
        float score = __int_as_float(0xff800000);
        if (threadIdx.x < KEYS_PER_STEP && j <= position)
        {
            const float* key = keys + (long long)j * kvWidth + kvHead * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) dot += q[d] * key[d];
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
                const float* value = values + (long long)j0 * kvWidth + kvHead * headDim + d;
                for (int jj = 0; jj < count; jj++) sum += weights[jj] * value[(long long)jj * kvWidth];
                accumulator[r] = sum;
            }
        }

        __syncthreads();
    }

    float* target = output + (long long)(queryRow + i) * queryWidth + h * headDim;
    for (int r = 0; r < MAX_DIMS_PER_THREAD; r++)
    {
        int d = threadIdx.x + r * blockDim.x;
        if (d < headDim) target[d] = accumulator[r] / runningSum;
    }
}
