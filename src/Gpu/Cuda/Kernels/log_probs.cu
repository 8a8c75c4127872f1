// Log-probabilities of given tokens and of each row's K most likely tokens (IComputeDevice.TokenLogProbs), one block per
// row of logits: log p(i) = x_i - m - ln sum_j exp(x_j - m), the sum in double, as the CPU device computes it. The top K
// are K block-wide argmax passes, each taking the best token after the previous pick in the order (logit descending,
// id ascending): K is small (an API's logprobs, at most 20), so plain passes over the row are enough.
#include "common.cuh"

#define LOG_PROBS_THREADS 256

// A double shuffled as its two 32-bit halves (the form sampling.cu uses too).
__device__ __forceinline__ double log_probs_shfl_xor(double v, int offset)
{
    long long bits = __double_as_longlong(v);
    unsigned int lo = __shfl_xor_sync(0xffffffffu, (unsigned int)bits, offset);
    unsigned int hi = __shfl_xor_sync(0xffffffffu, (unsigned int)((unsigned long long)bits >> 32), offset);
    return __longlong_as_double((long long)(((unsigned long long)hi << 32) | lo));
}

__device__ double log_probs_sum_f64(double v, double* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) v += log_probs_shfl_xor(v, offset);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1) v += log_probs_shfl_xor(v, offset);
    // All threads have read scratch before anyone may reuse it.
    __syncthreads();
    return v;
}

// Whether candidate (a, ai) comes before (b, bi): a higher logit, or the same logit and a lower id; `none` is no candidate.
__device__ __forceinline__ bool log_probs_before(float a, int ai, float b, int bi, int none)
{
    return ai != none && (bi == none || a > b || (a == b && ai < bi));
}

// The block's first candidate in that order; every thread gets it. Scratch: 32 floats and 32 ints of shared memory.
__device__ void log_probs_block_best(float* value, int* id, int none, float* values, int* ids)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    float v = *value;
    int i = *id;
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        float ov = __shfl_xor_sync(0xffffffffu, v, offset);
        int oi = __shfl_xor_sync(0xffffffffu, i, offset);
        if (log_probs_before(ov, oi, v, i, none)) { v = ov; i = oi; }
    }
    if (lane == 0) { values[warp] = v; ids[warp] = i; }
    __syncthreads();
    v = lane < warps ? values[lane] : __int_as_float(0xff800000);
    i = lane < warps ? ids[lane] : none;
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        float ov = __shfl_xor_sync(0xffffffffu, v, offset);
        int oi = __shfl_xor_sync(0xffffffffu, i, offset);
        if (log_probs_before(ov, oi, v, i, none)) { v = ov; i = oi; }
    }
    __syncthreads();
    *value = v;
    *id = i;
}

// logits [rows, vocab]; targets [rows]; targetLogProbs [rows]; topIds and topLogProbs [rows, k]. A target outside
// [0, vocab) gets NaN (the host checks ids before they get here); a top slot no token fills gets id -1 and -inf.
extern "C" __global__ void __launch_bounds__(LOG_PROBS_THREADS) token_log_probs(const float* logits, const int* targets,
    float* targetLogProbs, int* topIds, float* topLogProbs, int vocab, int k)
{
    __shared__ float floatScratch[32];
    __shared__ double doubleScratch[32];
    __shared__ int intScratch[32];
    const float* x = logits + (long long)blockIdx.x * vocab;

    float m = __int_as_float(0xff800000);
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, floatScratch);

    double sum = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x)
    {
        float v = x[i];
        // A NaN logit is no token: not in the sum, never picked (as on the CPU device).
        if (v == v) sum += exp((double)v - (double)m);
    }
    double logSum = log(log_probs_sum_f64(sum, doubleScratch));

    if (threadIdx.x == 0)
    {
        int target = targets[blockIdx.x];
        targetLogProbs[blockIdx.x] = target >= 0 && target < vocab
            ? (float)((double)x[target] - (double)m - logSum)
            : __int_as_float(0x7fc00000);
    }

    // Pass j takes the best token after pick j-1; NaN never compares as after, so it is never picked.
    float previous = __int_as_float(0x7f800000);
    int previousId = -1;
    for (int j = 0; j < k; j++)
    {
        float best = __int_as_float(0xff800000);
        int bestId = vocab;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x)
        {
            float v = x[i];
            bool after = v < previous || (v == previous && i > previousId);
            // A thread's ids rise, so on equal logits it keeps its first.
            if (after && (bestId == vocab || v > best)) { best = v; bestId = i; }
        }
        log_probs_block_best(&best, &bestId, vocab, floatScratch, intScratch);
        if (threadIdx.x == 0)
        {
            long long slot = (long long)blockIdx.x * k + j;
            topIds[slot] = bestId == vocab ? -1 : bestId;
            topLogProbs[slot] = bestId == vocab ? __int_as_float(0xff800000) : (float)((double)best - (double)m - logSum);
        }
        previous = best;
        previousId = bestId;
    }
}
