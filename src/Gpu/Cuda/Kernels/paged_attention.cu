// Fast paths of paged, varlen causal grouped-query attention (fp32) for head dims 64 and 128 and group sizes 1, 2, 4, 8.
// Layout (vLLM's): query/output [T, heads * D]; key/value caches [blocks * blockSize, kvHeads * D]; Int32 queryStarts
// [S + 1], contextLengths [S], blockTables [S, maxBlocks]. Query row r of sequence s sits at position
// contextLengths[s] - (queryStarts[s+1] - r) and attends to the cached positions [max(0, position - window + 1), position].
// Scores are kept in base 2: q is scaled by log2(e) / sqrt(D) once, so every exponential is one exp2f.
//
// Decode (every sequence has one query row): flash decoding. One block per (partition of the context, kv head,
// sequence) holds the whole GQA group, so each K and V row is read once per group: float4 loads, D / 4 lanes per key,
// scores of the partition in shared memory, then P·V with each lane owning a float4 of the output. With several
// partitions, paged_decode_reduce merges their (max, sum, unnormalised output) triples.
//
// Prefill chunks: flash attention 2 in shared memory. One block per (tile of 64 (token, group head) rows, kv head,
// sequence); key tiles of 64 from the first key any row of the tile can see to the tile's last position (causal and
// window tiles skipped); online softmax per row; the heaviest (last) query tiles are scheduled first. In a mixed step
// the prefill kernel leaves sequences with one query row (skipDecodeRows) to the decode kernel, launched after it.
//
// The caches are fp32 or bf16 (the cache element type T: float or bf16_bits; entry points paged_*_bf16_*), bf16 rows
// widened exactly as they are loaded (4 bf16 in one 8-byte load where fp32 has a float4); all arithmetic is fp32.
// Query and output (activations, one type A) are fp32 or bf16 (entry points ending in _abf16: "_bf16" already names
// the caches): a bf16 query is widened exactly as it is loaded, and a bf16 output is the fp32 one rounded once as it
// is stored, so every path computes exactly what it computes for fp32 activations. Partial results stay fp32.
#include "bfloat16.cuh"

#define NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ long long paged_slot(const int* table, int position, int blockSize)
{
    return (long long)table[position / blockSize] * blockSize + position % blockSize;
}

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }

__device__ __forceinline__ float4 f4(float x, float y, float z, float w)
{
    float4 r;
    r.x = x; r.y = y; r.z = z; r.w = w;
    return r;
}

__device__ __forceinline__ float dot4(float4 a, float4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

// Four consecutive elements of a cache or activation row as floats: a float4 load (16-byte aligned), or an 8-byte
// load of 4 bf16 widened.
__device__ __forceinline__ float4 load_cache4(const float* at) { return *(const float4*)at; }
__device__ __forceinline__ float4 load_cache4(const bf16_bits* at)
{
    uint2 packed = *(const uint2*)at;
    return f4(__uint_as_float(packed.x << 16), __uint_as_float(packed.x & 0xffff0000u),
        __uint_as_float(packed.y << 16), __uint_as_float(packed.y & 0xffff0000u));
}

// Four floats to an output row (16-byte aligned for float, 8-byte for bf16), each rounded once for bf16.
__device__ __forceinline__ void store4(float* at, float4 v) { *(float4*)at = v; }
__device__ __forceinline__ void store4(bf16_bits* at, float4 v)
{
    uint2 packed;
    packed.x = (unsigned int)float_to_bf16(v.x) | ((unsigned int)float_to_bf16(v.y) << 16);
    packed.y = (unsigned int)float_to_bf16(v.z) | ((unsigned int)float_to_bf16(v.w) << 16);
    *(uint2*)at = packed;
}

// A decode lane's share of a cache row: 16 bytes, so a load fetches as much of a bf16 row as of a float one — 4
// floats, or 8 bf16 widened into two float4 — and NV float4 of it stay in registers.
template <typename T> struct DecodeLane { static constexpr int EPL = 4, NV = 1; };
template <> struct DecodeLane<bf16_bits> { static constexpr int EPL = 8, NV = 2; };

__device__ __forceinline__ void load_lane(const float* at, float4 (&out)[1]) { out[0] = *(const float4*)at; }
__device__ __forceinline__ void load_lane(const bf16_bits* at, float4 (&out)[2])
{
    uint4 packed = *(const uint4*)at;
    out[0] = f4(__uint_as_float(packed.x << 16), __uint_as_float(packed.x & 0xffff0000u),
        __uint_as_float(packed.y << 16), __uint_as_float(packed.y & 0xffff0000u));
    out[1] = f4(__uint_as_float(packed.z << 16), __uint_as_float(packed.z & 0xffff0000u),
        __uint_as_float(packed.w << 16), __uint_as_float(packed.w & 0xffff0000u));
}

#define DECODE_WARPS 4
#define DECODE_UNROLL 8

template <int D, int G, typename T, typename A>
__device__ __forceinline__ void paged_decode(const A* __restrict__ query, const T* __restrict__ keyCache,
    const T* __restrict__ valueCache, A* __restrict__ output, float* __restrict__ partialOut,
    float* __restrict__ partialMax, float* __restrict__ partialSum, const int* __restrict__ queryStarts,
    const int* __restrict__ contextLengths, const int* __restrict__ blockTables, int maxBlocks, int blockSize,
    int kvHeads, int window, float scaleLog2, int partition, int splits)
{
    constexpr int EPL = DecodeLane<T>::EPL;  // cache elements per lane
    constexpr int NV = DecodeLane<T>::NV;    // float4 per lane
    constexpr int LANES = D / EPL;           // lanes reading one key row, 16 bytes each
    constexpr int KPW = 32 / LANES;          // keys per warp per step
    constexpr int KSTEP = DECODE_WARPS * KPW; // keys per block per step
    extern __shared__ float4 shared4[];
    float* logits = (float*)shared4;                                  // [G][partition]
    float4* reduceOut = (float4*)(logits + G * partition);            // [KSTEP][G][LANES][NV]
    float* reduceSum = (float*)(reduceOut + KSTEP * G * LANES * NV);  // [KSTEP][G]
    __shared__ float reduceMax[DECODE_WARPS][G];

    int p = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z;
    int queryEnd = queryStarts[s + 1];
    if (queryEnd - queryStarts[s] != 1) return; // no query this step, or a prefill chunk (the prefill kernel's)
    int row = queryEnd - 1, heads = kvHeads * G, kvWidth = kvHeads * D;
    int position = contextLengths[s] - 1;
    int start = window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
    int begin = start + p * partition;
    int n = imin(partition, position + 1 - begin);
    long long partialBase = ((long long)s * heads + kvh * G) * splits + p; // + g * splits
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, c = lane % LANES, sub = warp * KPW + lane / LANES;
    if (n <= 0)
    {
        if (tid < G)
        {
            partialMax[partialBase + tid * splits] = NEG_INF;
            partialSum[partialBase + tid * splits] = 0.0f;
        }
        return;
    }

    const int* table = blockTables + (long long)s * maxBlocks;
    const T* kBase = keyCache + kvh * D + c * EPL;
    const T* vBase = valueCache + kvh * D + c * EPL;
    float4 q[G][NV];
    float m[G];
#pragma unroll
    for (int g = 0; g < G; g++)
    {
#pragma unroll
        for (int e = 0; e < NV; e++)
        {
            float4 v = load_cache4(query + (long long)row * heads * D + (kvh * G + g) * D + c * EPL + e * 4);
            q[g][e] = f4(v.x * scaleLog2, v.y * scaleLog2, v.z * scaleLog2, v.w * scaleLog2);
        }

        m[g] = NEG_INF;
    }

    // Scores: warp-uniform loop bounds, so the shuffles run with every lane.
    for (int base = warp * KPW; base < n; base += KSTEP * DECODE_UNROLL)
    {
        float4 k[DECODE_UNROLL][NV];
#pragma unroll
        for (int u = 0; u < DECODE_UNROLL; u++)
        {
            int j = base + lane / LANES + u * KSTEP;
            if (j < n)
            {
                load_lane(kBase + paged_slot(table, begin + j, blockSize) * kvWidth, k[u]);
            }
            else
            {
#pragma unroll
                for (int e = 0; e < NV; e++) k[u][e] = f4(0, 0, 0, 0);
            }
        }

#pragma unroll
        for (int u = 0; u < DECODE_UNROLL; u++)
        {
            int j = base + lane / LANES + u * KSTEP;
#pragma unroll
            for (int g = 0; g < G; g++)
            {
                float dot = 0.0f;
#pragma unroll
                for (int e = 0; e < NV; e++) dot += dot4(q[g][e], k[u][e]);
#pragma unroll
                for (int offset = LANES / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
                if (j < n)
                {
                    if (c == 0) logits[g * partition + j] = dot;
                    m[g] = fmaxf(m[g], dot);
                }
            }
        }
    }

#pragma unroll
    for (int g = 0; g < G; g++)
    {
        float v = m[g];
        for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
        if (lane == 0) reduceMax[warp][g] = v;
    }

    __syncthreads();
#pragma unroll
    for (int g = 0; g < G; g++)
    {
        float v = reduceMax[0][g];
#pragma unroll
        for (int w = 1; w < DECODE_WARPS; w++) v = fmaxf(v, reduceMax[w][g]);
        m[g] = v;
    }

#pragma unroll
    for (int g = 0; g < G; g++)
        for (int j = tid; j < n; j += blockDim.x) logits[g * partition + j] = exp2f(logits[g * partition + j] - m[g]);
    __syncthreads();

    float4 acc[G][NV];
    float l[G];
#pragma unroll
    for (int g = 0; g < G; g++)
    {
#pragma unroll
        for (int e = 0; e < NV; e++) acc[g][e] = f4(0, 0, 0, 0);
        l[g] = 0.0f;
    }

    for (int base = warp * KPW; base < n; base += KSTEP * DECODE_UNROLL)
    {
        float4 v[DECODE_UNROLL][NV];
#pragma unroll
        for (int u = 0; u < DECODE_UNROLL; u++)
        {
            int j = base + lane / LANES + u * KSTEP;
            if (j < n)
            {
                load_lane(vBase + paged_slot(table, begin + j, blockSize) * kvWidth, v[u]);
            }
            else
            {
#pragma unroll
                for (int e = 0; e < NV; e++) v[u][e] = f4(0, 0, 0, 0);
            }
        }

#pragma unroll
        for (int u = 0; u < DECODE_UNROLL; u++)
        {
            int j = base + lane / LANES + u * KSTEP;
            if (j < n)
            {
#pragma unroll
                for (int g = 0; g < G; g++)
                {
                    float w = logits[g * partition + j];
                    l[g] += w;
#pragma unroll
                    for (int e = 0; e < NV; e++)
                    {
                        acc[g][e].x += w * v[u][e].x;
                        acc[g][e].y += w * v[u][e].y;
                        acc[g][e].z += w * v[u][e].z;
                        acc[g][e].w += w * v[u][e].w;
                    }
                }
            }
        }
    }

    // reduceOut[(sub, g)] holds the lane's NV float4 in row order, so float4 cc of a head's D/4 sits at cc of that row.
#pragma unroll
    for (int g = 0; g < G; g++)
    {
#pragma unroll
        for (int e = 0; e < NV; e++) reduceOut[((sub * G + g) * LANES + c) * NV + e] = acc[g][e];
        if (c == 0) reduceSum[sub * G + g] = l[g];
    }

    __syncthreads();
    constexpr int ROW4 = LANES * NV; // float4 per head row: D / 4
    for (int index = tid; index < G * ROW4; index += blockDim.x)
    {
        int g = index / ROW4, cc = index % ROW4;
        float4 o = reduceOut[g * ROW4 + cc];
        float sum = reduceSum[g];
#pragma unroll
        for (int t = 1; t < KSTEP; t++)
        {
            float4 x = reduceOut[(t * G + g) * ROW4 + cc];
            o.x += x.x; o.y += x.y; o.z += x.z; o.w += x.w;
            sum += reduceSum[t * G + g];
        }

        if (splits == 1)
        {
            float inverse = 1.0f / sum;
            store4(output + (long long)row * heads * D + (kvh * G + g) * D + cc * 4,
                f4(o.x * inverse, o.y * inverse, o.z * inverse, o.w * inverse));
        }
        else
        {
            long long at = partialBase + g * splits;
            *(float4*)(partialOut + at * D + cc * 4) = o;
            if (cc == 0)
            {
                partialMax[at] = m[g];
                partialSum[at] = sum;
            }
        }
    }
}

#define DECODE_ARGS(T, A) const A* query, const T* keyCache, const T* valueCache, A* output, float* partialOut, \
    float* partialMax, float* partialSum, const int* queryStarts, const int* contextLengths, const int* blockTables, \
    int maxBlocks, int blockSize, int kvHeads, int window, float scaleLog2, int partition, int splits
#define DECODE_PASS query, keyCache, valueCache, output, partialOut, partialMax, partialSum, queryStarts, contextLengths, \
    blockTables, maxBlocks, blockSize, kvHeads, window, scaleLog2, partition, splits

extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g1(DECODE_ARGS(float, float)) { paged_decode<64, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g2(DECODE_ARGS(float, float)) { paged_decode<64, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g4(DECODE_ARGS(float, float)) { paged_decode<64, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g8(DECODE_ARGS(float, float)) { paged_decode<64, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g1(DECODE_ARGS(float, float)) { paged_decode<128, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g2(DECODE_ARGS(float, float)) { paged_decode<128, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g4(DECODE_ARGS(float, float)) { paged_decode<128, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g8(DECODE_ARGS(float, float)) { paged_decode<128, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g1(DECODE_ARGS(bf16_bits, float)) { paged_decode<64, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g2(DECODE_ARGS(bf16_bits, float)) { paged_decode<64, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g4(DECODE_ARGS(bf16_bits, float)) { paged_decode<64, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g8(DECODE_ARGS(bf16_bits, float)) { paged_decode<64, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g1(DECODE_ARGS(bf16_bits, float)) { paged_decode<128, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g2(DECODE_ARGS(bf16_bits, float)) { paged_decode<128, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g4(DECODE_ARGS(bf16_bits, float)) { paged_decode<128, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g8(DECODE_ARGS(bf16_bits, float)) { paged_decode<128, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g1_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<64, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g2_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<64, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g4_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<64, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d64_g8_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<64, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g1_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<128, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g2_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<128, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g4_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<128, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_d128_g8_abf16(DECODE_ARGS(float, bf16_bits)) { paged_decode<128, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g1_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<64, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g2_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<64, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g4_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<64, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d64_g8_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<64, 8>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g1_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<128, 1>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g2_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<128, 2>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g4_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<128, 4>(DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(128) paged_decode_bf16_d128_g8_abf16(DECODE_ARGS(bf16_bits, bf16_bits)) { paged_decode<128, 8>(DECODE_PASS); }

// Merges the partitions of each (sequence, head): output = Σ 2^(m_p − M) o_p / Σ 2^(m_p − M) l_p. Grid (heads, S).
template <typename A>
__device__ __forceinline__ void paged_decode_reduce_of(const float* partialOut, const float* partialMax, const float* partialSum,
    A* output, const int* queryStarts, int heads, int headDim, int splits)
{
    int h = blockIdx.x, s = blockIdx.y;
    int queryEnd = queryStarts[s + 1];
    if (queryEnd - queryStarts[s] != 1) return;
    long long base = ((long long)s * heads + h) * splits;
    float top = NEG_INF;
    for (int p = 0; p < splits; p++) top = fmaxf(top, partialMax[base + p]);
    float total = 0.0f;
    for (int p = 0; p < splits; p++)
    {
        float mp = partialMax[base + p];
        if (mp != NEG_INF) total += exp2f(mp - top) * partialSum[base + p];
    }

    float inverse = 1.0f / total;
    A* target = output + (long long)(queryEnd - 1) * heads * headDim + h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x)
    {
        float o = 0.0f;
        for (int p = 0; p < splits; p++)
        {
            float mp = partialMax[base + p];
            if (mp != NEG_INF) o += exp2f(mp - top) * partialOut[(base + p) * headDim + d];
        }

        store_act(target, d, o * inverse);
    }
}

extern "C" __global__ void paged_decode_reduce(const float* partialOut, const float* partialMax, const float* partialSum,
    float* output, const int* queryStarts, int heads, int headDim, int splits)
{
    paged_decode_reduce_of(partialOut, partialMax, partialSum, output, queryStarts, heads, headDim, splits);
}

extern "C" __global__ void paged_decode_reduce_abf16(const float* partialOut, const float* partialMax, const float* partialSum,
    bf16_bits* output, const int* queryStarts, int heads, int headDim, int splits)
{
    paged_decode_reduce_of(partialOut, partialMax, partialSum, output, queryStarts, heads, headDim, splits);
}

#define TILE_M 64
#define TILE_N 64
#define PREFILL_THREADS 256

template <int D, int G, typename T, typename A>
__device__ __forceinline__ void paged_prefill(const A* __restrict__ query, const T* __restrict__ keyCache,
    const T* __restrict__ valueCache, A* __restrict__ output, const int* __restrict__ queryStarts,
    const int* __restrict__ contextLengths, const int* __restrict__ blockTables, int maxBlocks, int blockSize,
    int kvHeads, int window, float scaleLog2, int skipDecodeRows)
{
    constexpr int STRIDE = D + 4;          // padded shared row, 16-byte aligned
    constexpr int C4 = D / 4;              // float4 per row
    constexpr int DV = D / 64;             // float4 of output per thread and row
    constexpr int TOKENS = TILE_M / G;
    extern __shared__ float4 shared4[];
    float* qs = (float*)shared4;           // [TILE_M][STRIDE]
    float* kvs = qs + TILE_M * STRIDE;     // [TILE_N][STRIDE]: K, then V of the same tile
    float* ps = kvs + TILE_N * STRIDE;     // [TILE_M][TILE_N + 4]

    int kvh = blockIdx.y, s = blockIdx.z;
    int queryStart = queryStarts[s], queryLength = queryStarts[s + 1] - queryStart;
    int t0 = (gridDim.x - 1 - blockIdx.x) * TOKENS;
    if (t0 >= queryLength || (queryLength == 1 && skipDecodeRows)) return;
    int context = contextLengths[s], firstPosition = context - queryLength;
    int tileTokens = imin(TOKENS, queryLength - t0);
    int lastPosition = firstPosition + t0 + tileTokens - 1;
    int firstKey = window > 0 ? imax(0, firstPosition + t0 - window + 1) : 0;
    int heads = kvHeads * G, kvWidth = kvHeads * D;
    const int* table = blockTables + (long long)s * maxBlocks;
    int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;

    for (int e = tid; e < TILE_M * C4; e += PREFILL_THREADS)
    {
        int r = e / C4, c = e % C4, t = t0 + r / G, g = r % G;
        float4 v = f4(0, 0, 0, 0);
        if (t < queryLength)
        {
            v = load_cache4(query + (long long)(queryStart + t) * heads * D + (kvh * G + g) * D + c * 4);
            v = f4(v.x * scaleLog2, v.y * scaleLog2, v.z * scaleLog2, v.w * scaleLog2);
        }

        *(float4*)(qs + r * STRIDE + c * 4) = v;
    }

    int rowPosition[4], rowStart[4];
    float m[4], l[4];
    float4 o[4][DV];
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        int r = ty * 4 + i, t = t0 + r / G;
        rowPosition[i] = t < queryLength ? firstPosition + t : -1;
        rowStart[i] = window > 0 ? rowPosition[i] - window + 1 : 0;
        m[i] = NEG_INF;
        l[i] = 0.0f;
#pragma unroll
        for (int k = 0; k < DV; k++) o[i][k] = f4(0, 0, 0, 0);
    }

    for (int kt = firstKey; kt <= lastPosition; kt += TILE_N)
    {
        __syncthreads(); // the previous tile's P·V is done with kvs and ps (and qs is written, the first time)
        for (int e = tid; e < TILE_N * C4; e += PREFILL_THREADS)
        {
            int kk = e / C4, c = e % C4, key = kt + kk;
            float4 v = key <= lastPosition
                ? load_cache4(keyCache + paged_slot(table, key, blockSize) * kvWidth + kvh * D + c * 4)
                : f4(0, 0, 0, 0);
            *(float4*)(kvs + kk * STRIDE + c * 4) = v;
        }

        __syncthreads();
        float score[4][4];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) score[i][j] = 0.0f;
#pragma unroll 4
        for (int d = 0; d < D; d += 4)
        {
            float4 a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = *(const float4*)(qs + (ty * 4 + i) * STRIDE + d);
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = *(const float4*)(kvs + (tx + 16 * j) * STRIDE + d);
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) score[i][j] += dot4(a[i], b[j]);
        }

#pragma unroll
        for (int i = 0; i < 4; i++)
        {
            float top = NEG_INF;
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                int key = kt + tx + 16 * j;
                if (key > rowPosition[i] || key < rowStart[i]) score[i][j] = NEG_INF;
                top = fmaxf(top, score[i][j]);
            }

#pragma unroll
            for (int offset = 8; offset > 0; offset >>= 1) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, offset));
            float newMax = fmaxf(m[i], top);
            float use = newMax == NEG_INF ? 0.0f : newMax;
            float alpha = exp2f(m[i] - use);
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                float pj = exp2f(score[i][j] - use);
                sum += pj;
                ps[(ty * 4 + i) * (TILE_N + 4) + tx + 16 * j] = pj;
            }

#pragma unroll
            for (int offset = 8; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
            l[i] = l[i] * alpha + sum;
            m[i] = newMax;
#pragma unroll
            for (int k = 0; k < DV; k++)
            {
                o[i][k].x *= alpha; o[i][k].y *= alpha; o[i][k].z *= alpha; o[i][k].w *= alpha;
            }
        }

        __syncthreads(); // everyone is done with K; P is published
        for (int e = tid; e < TILE_N * C4; e += PREFILL_THREADS)
        {
            int kk = e / C4, c = e % C4, key = kt + kk;
            float4 v = key <= lastPosition
                ? load_cache4(valueCache + paged_slot(table, key, blockSize) * kvWidth + kvh * D + c * 4)
                : f4(0, 0, 0, 0);
            *(float4*)(kvs + kk * STRIDE + c * 4) = v;
        }

        __syncthreads();
        int keys = imin(TILE_N, lastPosition + 1 - kt);
#pragma unroll 4
        for (int kk = 0; kk < keys; kk++)
        {
            float4 v[DV];
#pragma unroll
            for (int k = 0; k < DV; k++) v[k] = *(const float4*)(kvs + kk * STRIDE + tx * 4 + 64 * k);
#pragma unroll
            for (int i = 0; i < 4; i++)
            {
                float pr = ps[(ty * 4 + i) * (TILE_N + 4) + kk];
#pragma unroll
                for (int k = 0; k < DV; k++)
                {
                    o[i][k].x += pr * v[k].x; o[i][k].y += pr * v[k].y; o[i][k].z += pr * v[k].z; o[i][k].w += pr * v[k].w;
                }
            }
        }
    }

#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        int r = ty * 4 + i, t = t0 + r / G, g = r % G;
        if (t < queryLength)
        {
            float inverse = 1.0f / l[i];
            A* target = output + (long long)(queryStart + t) * heads * D + (kvh * G + g) * D + tx * 4;
#pragma unroll
            for (int k = 0; k < DV; k++)
                store4(target + 64 * k, f4(o[i][k].x * inverse, o[i][k].y * inverse, o[i][k].z * inverse, o[i][k].w * inverse));
        }
    }
}

#define PREFILL_ARGS(T, A) const A* query, const T* keyCache, const T* valueCache, A* output, \
    const int* queryStarts, const int* contextLengths, const int* blockTables, int maxBlocks, int blockSize, int kvHeads, \
    int window, float scaleLog2, int skipDecodeRows
#define PREFILL_PASS query, keyCache, valueCache, output, queryStarts, contextLengths, blockTables, maxBlocks, blockSize, \
    kvHeads, window, scaleLog2, skipDecodeRows

extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g1(PREFILL_ARGS(float, float)) { paged_prefill<64, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g2(PREFILL_ARGS(float, float)) { paged_prefill<64, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g4(PREFILL_ARGS(float, float)) { paged_prefill<64, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g8(PREFILL_ARGS(float, float)) { paged_prefill<64, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g1(PREFILL_ARGS(float, float)) { paged_prefill<128, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g2(PREFILL_ARGS(float, float)) { paged_prefill<128, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g4(PREFILL_ARGS(float, float)) { paged_prefill<128, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g8(PREFILL_ARGS(float, float)) { paged_prefill<128, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g1(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<64, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g2(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<64, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g4(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<64, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g8(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<64, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g1(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<128, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g2(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<128, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g4(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<128, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g8(PREFILL_ARGS(bf16_bits, float)) { paged_prefill<128, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g1_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<64, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g2_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<64, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g4_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<64, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d64_g8_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<64, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g1_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<128, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g2_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<128, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g4_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<128, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_d128_g8_abf16(PREFILL_ARGS(float, bf16_bits)) { paged_prefill<128, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g1_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<64, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g2_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<64, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g4_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<64, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d64_g8_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<64, 8>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g1_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<128, 1>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g2_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<128, 2>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g4_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<128, 4>(PREFILL_PASS); }
extern "C" __global__ void __launch_bounds__(256, 2) paged_prefill_bf16_d128_g8_abf16(PREFILL_ARGS(bf16_bits, bf16_bits)) { paged_prefill<128, 8>(PREFILL_PASS); }
