// Prefill chunks of paged attention on tensor cores: FlashAttention-2 (Dao 2023, "FlashAttention-2: Faster Attention
// with Better Parallelism and Work Partitioning"), Algorithm 1, with mma.sync m16n8k16 bf16 × bf16 → fp32.
//
// Same arguments, layouts and semantics as paged_prefill in paged_attention.cu (see its header): query/output
// [T, heads * D], paged caches [blocks * blockSize, kvHeads * D], query row r of sequence s at position
// contextLengths[s] - (queryStarts[s+1] - r), causal over [max(0, position - window + 1), position], base-2 scores
// with q scaled by log2(e) / sqrt(D), sequences of one row left to the decode kernel when skipDecodeRows is set.
//
// With fp32 caches, q, K and V are rounded to bf16 as they are staged in shared memory; with bf16 caches
// (paged_prefill_mma_bf16_*) the K and V rows are copied into shared memory as they are (cp.async, 16 bytes at a time)
// and only q is rounded. Products and the online softmax stay fp32. Query and output (activations, one type A) are
// fp32 or bf16 (entry points ending in _abf16): a bf16 query is widened exactly as it is loaded (then scaled and
// rounded to bf16 as an fp32 one is), and a bf16 output is the fp32 one rounded once as it is stored.
//
// One block per (tile of 64 (token, group head) rows, kv head, sequence), like paged_prefill, so a K/V tile is read
// from the cache once for the whole GQA group instead of once per query head; each of the 4 warps owns 16 rows. Per
// key tile of 64: S = Q·Kᵀ (Q fragments kept in registers), mask, online softmax on the S accumulators, which are then
// re-packed as the bf16 A fragments of O += P·V (V read transposed by ldmatrix.trans). The heaviest (last) query
// tiles are scheduled first.
//
// Fragments of m16n8k16 (PTX ISA, "Matrix Fragments for mma.m16n8k16"), g = lane / 4, t = lane % 4, each register
// two consecutive-k (or consecutive-n) elements, the lower index in the lower half:
//   A (16×16, row): a0 (row g, k 2t), a1 (row g + 8, k 2t), a2 (row g, k 2t + 8), a3 (row g + 8, k 2t + 8)
//   B (16×8, col):  b0 (k 2t, n g), b1 (k 2t + 8, n g)
//   C (16×8, fp32): c0 c1 (row g, n 2t, 2t + 1), c2 c3 (row g + 8, n 2t, 2t + 1)

#include "bfloat16.cuh"

#define NEG_INF __int_as_float(0xff800000)
#define FLASH_WARPS 4
#define FLASH_THREADS (32 * FLASH_WARPS)
#define FLASH_M (16 * FLASH_WARPS) // (token, group head) rows of a tile: 16 per warp, one mma row block
#define FLASH_N 64                 // keys of a tile

typedef unsigned int u32;
typedef unsigned short bf16;

__device__ __forceinline__ long long flash_slot(const int* table, int position, int blockSize)
{
    return (long long)table[position / blockSize] * blockSize + position % blockSize;
}

__device__ __forceinline__ int flash_min(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int flash_max(int a, int b) { return a > b ? a : b; }

// Two fp32 to bf16 (round to nearest even), lo in the lower half: cvt puts its first source in the upper half.
__device__ __forceinline__ u32 pack_bf16(float lo, float hi)
{
    u32 packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
    return packed;
}

// Four fp32 → four bf16 at an 8-byte aligned shared address.
__device__ __forceinline__ void store_bf16x4(bf16* at, float4 v)
{
    uint2 packed;
    packed.x = pack_bf16(v.x, v.y);
    packed.y = pack_bf16(v.z, v.w);
    *(uint2*)at = packed;
}

// Four consecutive query elements as floats: a float4 (16-byte aligned), or four bf16 in 8 bytes widened exactly.
__device__ __forceinline__ float4 load_query4(const float* at) { return *(const float4*)at; }
__device__ __forceinline__ float4 load_query4(const bf16* at)
{
    uint2 packed = *(const uint2*)at;
    return make_float4(__uint_as_float(packed.x << 16), __uint_as_float(packed.x & 0xffff0000u),
        __uint_as_float(packed.y << 16), __uint_as_float(packed.y & 0xffff0000u));
}

// Two consecutive output elements: a float2 (8-byte aligned), or two bf16 in 4 bytes, each rounded once with
// bfloat16.cuh's float_to_bf16 (the rounding every other activation store uses, NaNs included), not cvt.
__device__ __forceinline__ void store_output2(float* at, float lo, float hi) { *(float2*)at = make_float2(lo, hi); }
__device__ __forceinline__ void store_output2(bf16* at, float lo, float hi)
{
    *(u32*)at = (u32)float_to_bf16(lo) | ((u32)float_to_bf16(hi) << 16);
}

// c += a · b for one 16×8×16 tile.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const u32 (&a)[4], u32 b0, u32 b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8×8 bf16 matrices, transposed: lanes 8i..8i+7 give the row addresses of matrix i, and r[i] receives, in each
// lane, elements (2t, g) and (2t + 1, g) of matrix i — the B fragment of a row-major [k][n] tile. The memory clobber
// keeps it after the __syncthreads that publishes the tile.
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], const bf16* at)
{
    u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(at));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address) : "memory");
}

// 16 bytes global → shared without passing through registers (sm_80+), completed by cp_async_wait_all.
__device__ __forceinline__ void cp_async16(bf16* to, const bf16* from)
{
    u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(to));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(address), "l"(from) : "memory");
}

// This thread's copies are in shared memory (a barrier then publishes them to the block).
__device__ __forceinline__ void cp_async_wait_all()
{
    asm volatile("cp.async.commit_group;" ::: "memory");
    asm volatile("cp.async.wait_group 0;" ::: "memory");
}

// A K and V tile of FLASH_N keys from kt into ks and vs ([FLASH_N][D + 8] bf16), zeros past lastPosition (P is 0
// there, and 0·V must be 0). fp32 caches: float4 loads rounded to bf16.
template <int D>
__device__ __forceinline__ void stage_kv_tile(const float* __restrict__ keyCache, const float* __restrict__ valueCache,
    bf16* ks, bf16* vs, const int* table, int kt, int lastPosition, int blockSize, int kvWidth, int kvh, int tid)
{
    constexpr int STRIDE = D + 8;
    constexpr int C4 = D / 4; // float4 per cache row
    for (int e = tid; e < FLASH_N * C4; e += FLASH_THREADS)
    {
        int kk = e / C4, c = e % C4, key = kt + kk;
        float4 kv = make_float4(0, 0, 0, 0), vv = kv;
        if (key <= lastPosition)
        {
            long long at = flash_slot(table, key, blockSize) * kvWidth + kvh * D + c * 4;
            kv = *(const float4*)(keyCache + at);
            vv = *(const float4*)(valueCache + at);
        }

        store_bf16x4(ks + kk * STRIDE + c * 4, kv);
        store_bf16x4(vs + kk * STRIDE + c * 4, vv);
    }
}

// bf16 caches: the rows as they are, 8 bf16 (16 bytes) per copy. A cache row's offset (slot · kvWidth + kvh · D) and
// a shared row's (kk · (D + 8)) are multiples of 8 elements, so every copy is 16-byte aligned at both ends.
template <int D>
__device__ __forceinline__ void stage_kv_tile(const bf16* __restrict__ keyCache, const bf16* __restrict__ valueCache,
    bf16* ks, bf16* vs, const int* table, int kt, int lastPosition, int blockSize, int kvWidth, int kvh, int tid)
{
    constexpr int STRIDE = D + 8;
    constexpr int C8 = D / 8; // 16-byte chunks per cache row
    for (int e = tid; e < FLASH_N * C8; e += FLASH_THREADS)
    {
        int kk = e / C8, c = e % C8, key = kt + kk;
        bf16* kd = ks + kk * STRIDE + c * 8;
        bf16* vd = vs + kk * STRIDE + c * 8;
        if (key <= lastPosition)
        {
            long long at = flash_slot(table, key, blockSize) * kvWidth + kvh * D + c * 8;
            cp_async16(kd, keyCache + at);
            cp_async16(vd, valueCache + at);
        }
        else
        {
            *(uint4*)kd = make_uint4(0, 0, 0, 0);
            *(uint4*)vd = make_uint4(0, 0, 0, 0);
        }
    }

    cp_async_wait_all();
}

template <int D, int G, typename T, typename A>
__device__ __forceinline__ void paged_prefill_mma(const A* __restrict__ query, const T* __restrict__ keyCache,
    const T* __restrict__ valueCache, A* __restrict__ output, const int* __restrict__ queryStarts,
    const int* __restrict__ contextLengths, const int* __restrict__ blockTables, int maxBlocks, int blockSize,
    int kvHeads, int window, float scaleLog2, int skipDecodeRows)
{
#if __CUDA_ARCH__ >= 800 // bf16 mma and cvt: older devices still load this module; the host runs paged_prefill there
    // Rows padded by 16 bytes: the 8 rows an ldmatrix or a fragment load touches start in 8 different bank quads.
    constexpr int STRIDE = D + 8;
    constexpr int C4 = D / 4;            // float4 per cache row
    constexpr int KSTEPS = D / 16;       // k-steps of Q·Kᵀ
    constexpr int DTILES = D / 8;        // n-tiles of O
    constexpr int STILES = FLASH_N / 8;  // n-tiles of S
    constexpr int TOKENS = FLASH_M / G;
    extern __shared__ uint4 flashShared[];
    bf16* ks = (bf16*)flashShared;       // [FLASH_N][STRIDE]: Q while its fragments are loaded, then each K tile
    bf16* vs = ks + FLASH_N * STRIDE;    // [FLASH_N][STRIDE]

    int kvh = blockIdx.y, s = blockIdx.z;
    int queryStart = queryStarts[s], queryLength = queryStarts[s + 1] - queryStart;
    int t0 = (gridDim.x - 1 - blockIdx.x) * TOKENS;
    if (t0 >= queryLength || (queryLength == 1 && skipDecodeRows)) return;
    int context = contextLengths[s], firstPosition = context - queryLength;
    int lastPosition = firstPosition + flash_min(t0 + TOKENS, queryLength) - 1;
    int firstKey = window > 0 ? flash_max(0, firstPosition + t0 - window + 1) : 0;
    int heads = kvHeads * G, kvWidth = kvHeads * D;
    const int* table = blockTables + (long long)s * maxBlocks;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g8 = lane >> 2, t4 = lane & 3;

    // Q, scaled, as bf16 (FLASH_M == FLASH_N rows, so it fits where the K tiles go).
    for (int e = tid; e < FLASH_M * C4; e += FLASH_THREADS)
    {
        int r = e / C4, c = e % C4, t = t0 + r / G, g = r % G;
        float4 v = make_float4(0, 0, 0, 0);
        if (t < queryLength)
        {
            v = load_query4(query + (long long)(queryStart + t) * heads * D + (kvh * G + g) * D + c * 4);
            v = make_float4(v.x * scaleLog2, v.y * scaleLog2, v.z * scaleLog2, v.w * scaleLog2);
        }

        store_bf16x4(ks + r * STRIDE + c * 4, v);
    }

    __syncthreads();
    u32 qa[KSTEPS][4];
    const bf16* qrow = ks + (warp * 16 + g8) * STRIDE + 2 * t4;
#pragma unroll
    for (int k = 0; k < KSTEPS; k++)
    {
        qa[k][0] = *(const u32*)(qrow + k * 16);
        qa[k][1] = *(const u32*)(qrow + 8 * STRIDE + k * 16);
        qa[k][2] = *(const u32*)(qrow + k * 16 + 8);
        qa[k][3] = *(const u32*)(qrow + 8 * STRIDE + k * 16 + 8);
    }

    // This lane's two rows (g and g + 8 of its warp's 16), and the keys any row of the warp can see (warp-uniform,
    // to skip whole tiles; a warp past the sequence's end sees none).
    int position[2], start[2];
    float m[2], l[2];
#pragma unroll
    for (int i = 0; i < 2; i++)
    {
        int t = t0 + (warp * 16 + g8 + 8 * i) / G;
        position[i] = t < queryLength ? firstPosition + t : -1;
        start[i] = window > 0 ? position[i] - window + 1 : 0;
        m[i] = NEG_INF;
        l[i] = 0.0f; // this lane's part of the row sum: the quad is summed once, at the end
    }

    int warpFirstToken = t0 + warp * 16 / G;
    int warpLast = warpFirstToken < queryLength ? firstPosition + flash_min(t0 + (warp * 16 + 15) / G, queryLength - 1) : -1;
    int warpFirst = window > 0 ? firstPosition + warpFirstToken - window + 1 : 0;

    float o[DTILES][4];
#pragma unroll
    for (int d = 0; d < DTILES; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;

    for (int kt = firstKey; kt <= lastPosition; kt += FLASH_N)
    {
        __syncthreads(); // every warp is done with the previous tile (the first time: has its Q fragments)
        stage_kv_tile<D>(keyCache, valueCache, ks, vs, table, kt, lastPosition, blockSize, kvWidth, kvh, tid);
        __syncthreads();
        if (kt > warpLast || kt + FLASH_N - 1 < warpFirst) continue; // no row of this warp sees this tile

        float sc[STILES][4];
#pragma unroll
        for (int j = 0; j < STILES; j++) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
        for (int k = 0; k < KSTEPS; k++)
        {
#pragma unroll
            for (int j = 0; j < STILES; j++)
            {
                const bf16* krow = ks + (j * 8 + g8) * STRIDE + k * 16 + 2 * t4; // K row-major is Kᵀ column-major
                mma_bf16(sc[j], qa[k], *(const u32*)krow, *(const u32*)(krow + 8));
            }
        }

#pragma unroll
        for (int i = 0; i < 2; i++)
        {
            float top = NEG_INF;
#pragma unroll
            for (int j = 0; j < STILES; j++)
            {
#pragma unroll
                for (int e = 0; e < 2; e++)
                {
                    int key = kt + j * 8 + 2 * t4 + e;
                    if (key > position[i] || key < start[i]) sc[j][2 * i + e] = NEG_INF;
                    top = fmaxf(top, sc[j][2 * i + e]);
                }
            }

            // A row lives in the 4 lanes of a quad.
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
            float newMax = fmaxf(m[i], top);
            float use = newMax == NEG_INF ? 0.0f : newMax; // a row with nothing visible yet keeps p = 0, not NaN
            float alpha = exp2f(m[i] - use);
            m[i] = newMax;
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < STILES; j++)
            {
#pragma unroll
                for (int e = 0; e < 2; e++)
                {
                    float p = exp2f(sc[j][2 * i + e] - use);
                    sc[j][2 * i + e] = p;
                    sum += p;
                }
            }

            l[i] = l[i] * alpha + sum;
#pragma unroll
            for (int d = 0; d < DTILES; d++)
            {
                o[d][2 * i] *= alpha;
                o[d][2 * i + 1] *= alpha;
            }
        }

        // O += P·V: the C fragments of S n-tiles 2k and 2k + 1 are exactly the A fragment of k-step k.
#pragma unroll
        for (int k = 0; k < FLASH_N / 16; k++)
        {
            u32 pa[4] = { pack_bf16(sc[2 * k][0], sc[2 * k][1]), pack_bf16(sc[2 * k][2], sc[2 * k][3]),
                pack_bf16(sc[2 * k + 1][0], sc[2 * k + 1][1]), pack_bf16(sc[2 * k + 1][2], sc[2 * k + 1][3]) };
            // Lanes 0-15 address keys 16k..16k+15 at columns 8d, lanes 16-31 the same keys at 8d + 8: the B fragments
            // of n-tiles d (r0, r1) and d + 1 (r2, r3).
            const bf16* vrow = vs + (k * 16 + (lane & 15)) * STRIDE + (lane >> 4) * 8;
#pragma unroll
            for (int d = 0; d < DTILES; d += 2)
            {
                u32 b[4];
                ldmatrix_x4_trans(b, vrow + d * 8);
                mma_bf16(o[d], pa, b[0], b[1]);
                mma_bf16(o[d + 1], pa, b[2], b[3]);
            }
        }
    }

#pragma unroll
    for (int i = 0; i < 2; i++)
    {
        float sum = l[i];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        int r = warp * 16 + g8 + 8 * i, t = t0 + r / G, g = r % G;
        if (t < queryLength)
        {
            float inverse = 1.0f / sum;
            A* target = output + (long long)(queryStart + t) * heads * D + (kvh * G + g) * D + 2 * t4;
#pragma unroll
            for (int d = 0; d < DTILES; d++)
                store_output2(target + d * 8, o[d][2 * i] * inverse, o[d][2 * i + 1] * inverse);
        }
    }
#endif
}

#define FLASH_ARGS(T, A) const A* query, const T* keyCache, const T* valueCache, A* output, \
    const int* queryStarts, const int* contextLengths, const int* blockTables, int maxBlocks, int blockSize, int kvHeads, \
    int window, float scaleLog2, int skipDecodeRows
#define FLASH_PASS query, keyCache, valueCache, output, queryStarts, contextLengths, blockTables, maxBlocks, blockSize, \
    kvHeads, window, scaleLog2, skipDecodeRows

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g1(FLASH_ARGS(float, float)) { paged_prefill_mma<64, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g2(FLASH_ARGS(float, float)) { paged_prefill_mma<64, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g4(FLASH_ARGS(float, float)) { paged_prefill_mma<64, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g8(FLASH_ARGS(float, float)) { paged_prefill_mma<64, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g1(FLASH_ARGS(float, float)) { paged_prefill_mma<128, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g2(FLASH_ARGS(float, float)) { paged_prefill_mma<128, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g4(FLASH_ARGS(float, float)) { paged_prefill_mma<128, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g8(FLASH_ARGS(float, float)) { paged_prefill_mma<128, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g1(FLASH_ARGS(bf16, float)) { paged_prefill_mma<64, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g2(FLASH_ARGS(bf16, float)) { paged_prefill_mma<64, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g4(FLASH_ARGS(bf16, float)) { paged_prefill_mma<64, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g8(FLASH_ARGS(bf16, float)) { paged_prefill_mma<64, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g1(FLASH_ARGS(bf16, float)) { paged_prefill_mma<128, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g2(FLASH_ARGS(bf16, float)) { paged_prefill_mma<128, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g4(FLASH_ARGS(bf16, float)) { paged_prefill_mma<128, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g8(FLASH_ARGS(bf16, float)) { paged_prefill_mma<128, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g1_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<64, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g2_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<64, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g4_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<64, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d64_g8_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<64, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g1_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<128, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g2_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<128, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g4_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<128, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_d128_g8_abf16(FLASH_ARGS(float, bf16)) { paged_prefill_mma<128, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g1_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<64, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g2_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<64, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g4_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<64, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d64_g8_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<64, 8>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g1_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<128, 1>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g2_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<128, 2>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g4_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<128, 4>(FLASH_PASS); }
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) paged_prefill_mma_bf16_d128_g8_abf16(FLASH_ARGS(bf16, bf16)) { paged_prefill_mma<128, 8>(FLASH_PASS); }
