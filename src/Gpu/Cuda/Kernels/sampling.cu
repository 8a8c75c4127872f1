// Token sampling, one block per row of logits (IComputeDevice.SampleTokens): temperature → top-k → top-p (nucleus
// sampling, Holtzman et al. 2020) → an inverse-CDF draw walked from the most likely token down. Weights are integers made by exactly
// rounded float steps, so every sum is exact in any order and the thresholds found here by bisection are the ones the
// CPU device finds by sorting: both devices pick the same token for the same logits and draw.
#include "common.cuh"

// IComputeDevice's SamplingRow as the host lays it out: float, int, float, 4 bytes of padding, double (24 bytes).
struct SamplingRow
{
    float temperature;
    int topK;
    float topP;
    double draw;
};

#define SAMPLING_THREADS 1024
// One past the largest weight (2^31, the row's maximum): the bisections' upper end, where nothing is left.
#define SAMPLING_WEIGHT_END 2147483649ull

__device__ __forceinline__ int sampling_imin(int a, int b) { return a < b ? a : b; }

__device__ __forceinline__ unsigned long long sampling_shfl_xor(unsigned long long v, int offset)
{
    unsigned int lo = __shfl_xor_sync(0xffffffffu, (unsigned int)v, offset);
    unsigned int hi = __shfl_xor_sync(0xffffffffu, (unsigned int)(v >> 32), offset);
    return ((unsigned long long)hi << 32) | lo;
}

__device__ __forceinline__ unsigned long long sampling_shfl_up(unsigned long long v, int offset)
{
    unsigned int lo = __shfl_up_sync(0xffffffffu, (unsigned int)v, offset);
    unsigned int hi = __shfl_up_sync(0xffffffffu, (unsigned int)(v >> 32), offset);
    return ((unsigned long long)hi << 32) | lo;
}

// Block reductions over whole warps (blockDim a multiple of 32); every thread gets the result; scratch 32 entries.
__device__ unsigned long long block_sum_u64(unsigned long long v, unsigned long long* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) v += sampling_shfl_xor(v, offset);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0ull;
    for (int offset = 16; offset > 0; offset >>= 1) v += sampling_shfl_xor(v, offset);
    // All threads have read scratch before anyone may reuse it.
    __syncthreads();
    return v;
}

__device__ double block_sum_f64(double v, double* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __longlong_as_double((long long)sampling_shfl_xor((unsigned long long)__double_as_longlong(v), offset));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __longlong_as_double((long long)sampling_shfl_xor((unsigned long long)__double_as_longlong(v), offset));
    __syncthreads();
    return v;
}

__device__ int block_min_int(int v, int* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) v = sampling_imin(v, __shfl_xor_sync(0xffffffffu, v, offset));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0x7fffffff;
    for (int offset = 16; offset > 0; offset >>= 1) v = sampling_imin(v, __shfl_xor_sync(0xffffffffu, v, offset));
    __syncthreads();
    return v;
}

// The sum of v over the threads before this one (thread order); *total gets the whole block's sum.
__device__ unsigned long long block_exclusive_scan_u64(unsigned long long v, unsigned long long* scratch, unsigned long long* total)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    unsigned long long inclusive = v;
    for (int offset = 1; offset < 32; offset <<= 1)
    {
        unsigned long long before = sampling_shfl_up(inclusive, offset);
        if (lane >= offset) inclusive += before;
    }
    if (lane == 31) scratch[warp] = inclusive;
    __syncthreads();
    if (warp == 0)
    {
        unsigned long long running = lane < warps ? scratch[lane] : 0ull;
        for (int offset = 1; offset < 32; offset <<= 1)
        {
            unsigned long long before = sampling_shfl_up(running, offset);
            if (lane >= offset) running += before;
        }
        scratch[lane] = running;
    }
    __syncthreads();
    unsigned long long exclusive = (warp > 0 ? scratch[warp - 1] : 0ull) + inclusive - v;
    *total = scratch[warps - 1];
    __syncthreads();
    return exclusive;
}

// floor(2^31 · exp((x − m) / temperature)) with every float step exactly rounded and no library exp (whose last bit
// differs between C libraries and CUDA): the CPU device's SamplingWeight, operation for operation. The _rn intrinsics
// keep the compiler from contracting a multiply and an add into an FMA the CPU does not do.
__device__ __forceinline__ unsigned int sampling_weight(float x, float m, float temperature)
{
    float z = __fdiv_rn(__fsub_rn(x, m), temperature);
    float t = __fmul_rn(z, 1.44269504f);
    if (!(t >= -32.0f)) return 0u;
    float n = rintf(t);
    float f = __fsub_rn(t, n);
    // 2^f on [-1/2, 1/2]: Taylor coefficients (ln 2)^k / k!, the same literals as the CPU device.
    float p = __fmaf_rn(0.000154035304f, f, 0.00133335581f);
    p = __fmaf_rn(p, f, 0.00961812911f);
    p = __fmaf_rn(p, f, 0.0555041087f);
    p = __fmaf_rn(p, f, 0.240226507f);
    p = __fmaf_rn(p, f, 0.693147182f);
    p = __fmaf_rn(p, f, 1.0f);
    // 2^n for n in [-32, 0] from its bits: an exact scaling, as is the 2^31 after it.
    float scale = __int_as_float((127 + (int)n) << 23);
    return __float2uint_rz(__fmul_rn(__fmul_rn(p, scale), 2147483648.0f));
}

// How many weights reach τ, and their sum: the bisections' passes. weights is a row of whole uint4s (padding weights 0,
// which no τ ≥ 1 counts). Four weights a load and four loads in flight a thread, so a pass is not bound by L2 latency.
__device__ __forceinline__ unsigned long long count_from(const uint4* weights, int quads, unsigned int tau)
{
    unsigned long long count = 0;
#pragma unroll 4
    for (int c = threadIdx.x; c < quads; c += blockDim.x)
    {
        uint4 q = weights[c];
        count += (unsigned long long)((q.x >= tau) + (q.y >= tau) + (q.z >= tau) + (q.w >= tau));
    }
    return count;
}

__device__ __forceinline__ unsigned long long sum_from(const uint4* weights, int quads, unsigned int tau)
{
    unsigned long long sum = 0;
#pragma unroll 4
    for (int c = threadIdx.x; c < quads; c += blockDim.x)
    {
        uint4 q = weights[c];
        sum += (unsigned long long)(q.x >= tau ? q.x : 0u) + (q.y >= tau ? q.y : 0u) + (q.z >= tau ? q.z : 0u) + (q.w >= tau ? q.w : 0u);
    }
    return sum;
}

// One block per row. weights: [rows, stride] scratch the kernel fills, stride = vocab rounded up to a multiple of 4.
// The kept tokens are always described as every token of weight above `threshold` plus the `ties` lowest ids of weight
// equal to it (the sorted order's prefix).
extern "C" __global__ void __launch_bounds__(SAMPLING_THREADS) sample_tokens(const float* logits, const SamplingRow* rows,
    unsigned int* weights, int* ids, float* logProbs, int vocab)
{
    __shared__ float floatScratch[32];
    __shared__ double doubleScratch[32];
    __shared__ int intScratch[32];
    __shared__ unsigned long long scratch[32];
    __shared__ int drawn;
    const float* x = logits + (long long)blockIdx.x * vocab;
    int stride = (vocab + 3) & ~3, quads = stride >> 2;
    unsigned int* w = weights + (long long)blockIdx.x * stride;
    const uint4* w4 = (const uint4*)w;
    const SamplingRow p = rows[blockIdx.x];

    float m = __int_as_float(0xff800000);
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, floatScratch);

    double expSum = 0.0;
    int greedy = vocab;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x)
    {
        float v = x[i];
        expSum += (double)expf(v - m);
        // A thread's indices rise, so its first maximum is its lowest.
        if (v == m && greedy == vocab) greedy = i;
    }
    expSum = block_sum_f64(expSum, doubleScratch);
    greedy = block_min_int(greedy, intScratch);
    if (greedy == vocab) greedy = 0;

    int chosen = greedy;
    if (p.temperature != 0.0f)
    {
        unsigned long long total = 0;
        for (int i = threadIdx.x; i < stride; i += blockDim.x)
        {
            unsigned int weight = i < vocab ? sampling_weight(x[i], m, p.temperature) : 0u;
            w[i] = weight;
            total += weight;
        }
        // Its barrier also makes every thread's weights visible to the whole block's uint4 reads below.
        total = block_sum_u64(total, scratch);

        if (total > 0)
        {
            unsigned int threshold = 0;
            unsigned long long ties = (unsigned long long)vocab, kept = total;
            int topK = p.topK > 0 && p.topK < vocab ? p.topK : vocab;
            if (topK < vocab)
            {
                // Top-k: the largest τ with count(w ≥ τ) ≥ K is the K-th weight in sorted order; count(w ≥ 0) = V ≥ K
                // and nothing reaches the end. countAbove ends as count(w ≥ τ + 1), the tokens strictly above.
                unsigned long long lo = 0, hi = SAMPLING_WEIGHT_END, countAbove = 0;
                while (hi - lo > 1)
                {
                    unsigned long long mid = (lo + hi) >> 1;
                    unsigned long long count = block_sum_u64(count_from(w4, quads, (unsigned int)mid), scratch);
                    if (count >= (unsigned long long)topK) lo = mid;
                    else { hi = mid; countAbove = count; }
                }
                threshold = (unsigned int)lo;
                ties = (unsigned long long)topK - countAbove;
                unsigned long long above = block_sum_u64(sum_from(w4, quads, threshold + 1u), scratch);
                kept = above + ties * threshold;
            }

            if (p.topP < 1.0f)
            {
                // Top-p: the largest τ ≥ threshold whose kept tokens of weight ≥ τ reach the mass (at τ = threshold all
                // kept tokens do; above it, every token of weight ≥ τ is kept). sumAbove ends as the sum above τ.
                double mass = (double)p.topP * (double)kept;
                unsigned long long lo = threshold, hi = SAMPLING_WEIGHT_END, sumAbove = 0;
                while (hi - lo > 1)
                {
                    unsigned long long mid = (lo + hi) >> 1;
                    unsigned long long sum = block_sum_u64(sum_from(w4, quads, (unsigned int)mid), scratch);
                    if ((double)sum >= mass) lo = mid;
                    else { hi = mid; sumAbove = sum; }
                }
                unsigned long long tau = lo;
                if (tau > 0)
                {
                    // The fewest ties at τ that reach the mass: where the CPU device's walk down the sorted order stops.
                    // Integer sums below 2^53 convert to double exactly, so the comparisons are the CPU's.
                    double estimate = ceil((mass - (double)sumAbove) / (double)tau);
                    unsigned long long need = estimate < 1.0 ? 1ull : (unsigned long long)estimate;
                    while (need > 1 && (double)(sumAbove + (need - 1) * tau) >= mass) need--;
                    while ((double)(sumAbove + need * tau) < mass) need++;
                    if (tau == threshold && need > ties) need = ties;
                    threshold = (unsigned int)tau;
                    ties = need;
                    kept = sumAbove + need * tau;
                }
            }

            unsigned long long target = (unsigned long long)floor(p.draw * (double)kept);
            if (target > kept - 1) target = kept - 1;

            // The draw walks the kept tokens in the candidate order. The largest τ ≥ threshold whose kept tokens of
            // weight ≥ τ sum past the target holds it (at τ = threshold all kept tokens do); `before` ends as the sum
            // of those above τ, so the token is the rank-th lowest id of weight τ (all of them kept when τ > threshold,
            // and rank < ties when τ = threshold).
            unsigned long long lo = threshold, hi = SAMPLING_WEIGHT_END, before = 0;
            while (hi - lo > 1)
            {
                unsigned long long mid = (lo + hi) >> 1;
                unsigned long long sum = block_sum_u64(sum_from(w4, quads, (unsigned int)mid), scratch);
                if (sum > target) lo = mid;
                else { hi = mid; before = sum; }
            }
            unsigned int tau = (unsigned int)lo;
            unsigned long long rank = tau > 0 ? (target - before) / tau : 0ull;

            // The rank-th id of weight τ: each thread counts them in a contiguous run of ids, a scan gives it the count
            // before its run, and the thread whose run holds the rank finds it.
            int run = (vocab + blockDim.x - 1) / blockDim.x;
            int first = sampling_imin((int)threadIdx.x * run, vocab), last = sampling_imin(first + run, vocab);
            if (threadIdx.x == 0) drawn = greedy;
            unsigned long long here = 0, blockTotal;
            for (int i = first; i < last; i++) here += w[i] == tau ? 1ull : 0ull;
            unsigned long long start = block_exclusive_scan_u64(here, scratch, &blockTotal);
            if (start <= rank && rank < start + here)
            {
                unsigned long long k = start;
                for (int i = first; i < last; i++)
                {
                    if (w[i] != tau) continue;
                    if (k == rank)
                    {
                        drawn = i;
                        break;
                    }
                    k++;
                }
            }
            __syncthreads();
            chosen = drawn;
        }
    }

    if (threadIdx.x == 0)
    {
        ids[blockIdx.x] = chosen;
        logProbs[blockIdx.x] = (float)((double)x[chosen] - (double)m - log(expSum));
    }
}
