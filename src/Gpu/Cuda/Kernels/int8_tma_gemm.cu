// W8A8 linear at many tokens on Hopper, fed by the Tensor Memory Accelerator: the same wgmma GEMM and fused epilogue
// as int8_wgmma_gemm.cu, but shared memory is filled by TMA (cp.async.bulk.tensor) instead of every thread's cp.async,
// so the copies cost the multiplying warps nothing, and one copy can land in several blocks of a cluster at once.
//
// Why: at 512 tokens the cp.async kernel ran at a third of the tensor cores' int8 rate. Each block reads its x tile and
// its weight tile from L2 for every K step, and L2 cannot feed all 132 SMs that fast. Blocks of a cluster that share
// a tile load it once between them: blocks of one row tile (same x rows) split the x tile and multicast their halves
// (CN blocks along y), blocks of one column tile split the weight tile (CM blocks along x). 192-wide column tiles let
// 128 x 192 blocks cover 512 x 6144 (q/k/v) in one round of the H200's 132 SMs.
//
// A block is BM / 64 consumer warpgroups and one producer warp:
// - the producer's first lane walks K: waits until every consumer of the cluster has released the stage (mbarrier
//   `empty`), announces the stage's bytes on `full`, and issues the block's share of the x and weight boxes;
// - each consumer warpgroup waits on `full`, issues four wgmma (K = 128 bytes) for its 64 rows, keeps one batch in
//   flight, and releases the stage before it to every block of the cluster once that batch is done;
// - then the shared epilogue (int8_gemm.cuh) writes its accumulators, bit for bit as the other paths.
// TMA writes the 128-byte swizzle (chunk c of row r at c ^ (r & 7)) that the wgmma descriptors read, and fills rows
// and columns past the tensor with zeros, so ragged T, N and K need no special case.
#include "int8_gemm.cuh"

// CUtensorMap: 128 opaque bytes, encoded on the host by cuTensorMapEncodeTiled (CudaDevice.Int8Tma.cs).
struct __align__(64) TmaMap
{
    unsigned long long opaque[16];
};

// x [T, K] int8 (boxes of 128 bytes of K by the rows a block loads), and each weight [N, K] int8 likewise.
struct TmaMaps
{
    TmaMap x;
    TmaMap weight[IMMA_MAX_OUTPUTS];
};

#if defined(__CUDA_ARCH_FEAT_SM90_ALL) // TMA, clusters and wgmma exist only on sm_90a; other devices never launch these
#include "wgmma.cuh"
#define TMA_CLUSTER(CM, CN) __cluster_dims__(CM, CN, 1)
#define TMA_GRID_CONSTANT __grid_constant__

__device__ __forceinline__ void mbarrier_init(imma_u32 barrier, int count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(barrier), "r"(count) : "memory");
}

// One arrival (the producer's) that also says how many bytes the stage's copies will bring.
__device__ __forceinline__ void mbarrier_expect_bytes(imma_u32 barrier, int bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(barrier), "r"(bytes) : "memory");
}

// Waits until the barrier's phase of this parity has completed.
__device__ __forceinline__ void mbarrier_wait(imma_u32 barrier, int parity)
{
    imma_u32 done;
    do
    {
        asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
            : "=r"(done) : "r"(barrier), "r"(parity) : "memory");
    } while (!done);
}

__device__ __forceinline__ void mbarrier_arrive(imma_u32 barrier)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(barrier) : "memory");
}

// Arrives on the barrier at the same shared offset in the cluster's block `rank` (its own included).
__device__ __forceinline__ void mbarrier_arrive_in(imma_u32 barrier, int rank)
{
    asm volatile("{ .reg .b32 remote; mapa.shared::cluster.u32 remote, %0, %1; mbarrier.arrive.release.cluster.shared::cluster.b64 _, [remote]; }"
        :: "r"(barrier), "r"(rank) : "memory");
}

// A box of the tensor at (k, row) into this block's shared memory; its bytes complete `barrier`.
__device__ __forceinline__ void tma_load(imma_u32 to, const TmaMap* map, int k, int row, imma_u32 barrier)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
        :: "r"(to), "l"(map), "r"(k), "r"(row), "r"(barrier) : "memory");
}

// The same box into the same offsets (data and barrier) of every block of the cluster in `blocks`.
__device__ __forceinline__ void tma_load_multicast(imma_u32 to, const TmaMap* map, int k, int row, imma_u32 barrier, unsigned short blocks)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%2, %3}], [%4], %5;"
        :: "r"(to), "l"(map), "r"(k), "r"(row), "r"(barrier), "h"(blocks) : "memory");
}

__device__ __forceinline__ int cluster_rank()
{
    imma_u32 rank;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
    return (int)rank;
}

// Every thread of every block of the cluster; what was written before is seen after.
__device__ __forceinline__ void cluster_sync()
{
    asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

template <int BN>
__device__ __forceinline__ void wgmma_k32(int (&d)[BN / 2], unsigned long long a, unsigned long long b)
{
    if constexpr (BN == 192) wgmma_m64n192k32(d, a, b);
    else wgmma_m64n128k32(d, a, b);
}

// The producer's first lane: every K tile's x and weight boxes, this block's share of them, into the stage ring.
template <int BM, int BN, int CM, int CN, int STAGES, bool SWIGLU>
__device__ __forceinline__ void tma_produce(const TmaMaps& maps, int kTiles, imma_u32 base, imma_u32 full, imma_u32 empty, const ImmaTile& tile)
{
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + BN) * IMMA_BK;
    constexpr int A_ROWS = BM / CN, B_ROWS = BN / CM;
    // A SwiGLU box stays within gate's half of the weight tile or up's.
    constexpr int B_BOX = SWIGLU && B_ROWS > BN / 2 ? BN / 2 : B_ROWS;
    int rank = CM * CN > 1 ? cluster_rank() : 0, cx = rank % CM, cy = rank / CM;
    // Blocks that share this block's x rows (same cx) and its weight rows (same cy); rank = cx + cy * CM.
    unsigned short rowBlocks = 0, columnBlocks = 0;
    for (int i = 0; i < CN; i++) rowBlocks |= (unsigned short)(1 << (cx + i * CM));
    for (int i = 0; i < CM; i++) columnBlocks |= (unsigned short)(1 << (i + cy * CM));

    for (int kt = 0; kt < kTiles; kt++)
    {
        int s = kt % STAGES, round = kt / STAGES, k = kt * IMMA_BK;
        imma_u32 a = base + s * STAGE_BYTES, b = a + A_BYTES, barrier = full + 8 * s;
        if (round > 0) mbarrier_wait(empty + 8 * s, (round - 1) & 1);
        mbarrier_expect_bytes(barrier, STAGE_BYTES);

        imma_u32 aTo = a + cy * A_ROWS * IMMA_BK;
        int aRow = tile.m0 + cy * A_ROWS;
        if constexpr (CN > 1) tma_load_multicast(aTo, &maps.x, k, aRow, barrier, rowBlocks);
        else tma_load(aTo, &maps.x, k, aRow, barrier);

        for (int r = cx * B_ROWS; r < (cx + 1) * B_ROWS; r += B_BOX)
        {
            // SwiGLU: the first BN / 2 shared rows are gate's columns from n0, the rest up's same columns.
            const TmaMap* map = &maps.weight[SWIGLU ? r / (BN / 2) : tile.which];
            int row = tile.n0 + (SWIGLU ? r % (BN / 2) : r);
            if constexpr (CM > 1) tma_load_multicast(b + r * IMMA_BK, map, k, row, barrier, columnBlocks);
            else tma_load(b + r * IMMA_BK, map, k, row, barrier);
        }
    }
}

template <int BM, int BN, int CM, int CN, int STAGES, bool SWIGLU>
__device__ __forceinline__ void int8_tma_gemm(const TmaMaps& maps, const float* __restrict__ tokenScales, int tokens,
    int inner, const ImmaOutputs& outputs)
{
    constexpr int CONSUMER_WARPS = BM / 16, CLUSTER = CM * CN;
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + BN) * IMMA_BK;
    extern __shared__ __align__(1024) unsigned char shared[];
    __shared__ __align__(8) unsigned long long fullBarriers[STAGES], emptyBarriers[STAGES];

    ImmaTile tile = imma_tile<BM, SWIGLU, BN>(outputs);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    // Stages start 1024-byte aligned (the swizzle's period); the launch asks 1024 bytes more for this. Every block of
    // a cluster has the same layout, so a multicast lands at the same offsets in each.
    imma_u32 base = (imma_shared_address(shared) + 1023) & ~1023u;
    imma_u32 full = imma_shared_address(fullBarriers), empty = imma_shared_address(emptyBarriers);
    if (threadIdx.x == 0)
    {
        for (int s = 0; s < STAGES; s++)
        {
            mbarrier_init(full + 8 * s, 1);                          // the own producer's arrival, plus the bytes
            mbarrier_init(empty + 8 * s, CONSUMER_WARPS * CLUSTER);  // every consumer warp of the cluster
        }
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }

    // No block may signal another's barriers before they are initialised.
    if constexpr (CLUSTER > 1) cluster_sync();
    else __syncthreads();

    int kTiles = (inner + IMMA_BK - 1) / IMMA_BK;
    if (warp == CONSUMER_WARPS)
    {
        if (lane == 0) tma_produce<BM, BN, CM, CN, STAGES, SWIGLU>(maps, kTiles, base, full, empty, tile);
    }
    else
    {
        int group = warp >> 2;
        int sums[1][BN / 8][4];
#pragma unroll
        for (int j = 0; j < BN / 8; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) sums[0][j][e] = 0;
        int (&d)[BN / 2] = *reinterpret_cast<int (*)[BN / 2]>(&sums[0][0][0]);

        for (int kt = 0; kt < kTiles; kt++)
        {
            int s = kt % STAGES;
            mbarrier_wait(full + 8 * s, (kt / STAGES) & 1);
            imma_u32 a = base + s * STAGE_BYTES + group * 64 * IMMA_BK, b = base + s * STAGE_BYTES + A_BYTES;
            asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
            for (int kk = 0; kk < IMMA_BK / 32; kk++)
            {
                wgmma_k32<BN>(d, wgmma_descriptor(a + kk * 32), wgmma_descriptor(b + kk * 32));
            }

            asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
            asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
            // The batch before this one is done: its stage may be refilled, in this block and in every block whose
            // copies land here.
            if (kt > 0 && lane == 0)
            {
                imma_u32 released = empty + 8 * ((kt - 1) % STAGES);
                if constexpr (CLUSTER == 1)
                {
                    mbarrier_arrive(released);
                }
                else
                {
                    for (int r = 0; r < CLUSTER; r++) mbarrier_arrive_in(released, r);
                }
            }
            __syncwarp();
        }

        asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
        imma_epilogue<1, BN / 8, SWIGLU>(sums, tile.m0 + group * 64 + (warp & 3) * 16, tile.n0, tokenScales, tokens, outputs, tile);
    }

    // A block leaves only when no other block of its cluster can still signal its barriers.
    __syncwarp();
    if constexpr (CLUSTER > 1) cluster_sync();
}

#define TMA_BODY(BM, BN, CM, CN, STAGES, SWIGLU) int8_tma_gemm<BM, BN, CM, CN, STAGES, SWIGLU>(maps, tokenScales, tokens, inner, outputs)
#else
#define TMA_CLUSTER(CM, CN)
#define TMA_GRID_CONSTANT
#define TMA_BODY(BM, BN, CM, CN, STAGES, SWIGLU)
#endif

#define TMA_PARAMETERS const TMA_GRID_CONSTANT TmaMaps maps, const float* tokenScales, int tokens, int inner, ImmaOutputs outputs

// int8_tma_{gemm|swiglu}_m{BM}n{BN}c{CM}x{CN}: BM x BN tiles in clusters of CM (row tiles) x CN (column tiles), as many
// stages of (BM + BN) x 128 bytes as fit in about 200 KB (96 KB for 64 rows: two blocks an SM). CudaDevice's
// Int8TmaTile lists the same, with the tile it picks for a shape.
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_gemm_m128n128c1x1(TMA_PARAMETERS) { TMA_BODY(128, 128, 1, 1, 6, false); }
extern "C" __global__ void TMA_CLUSTER(2, 1) __launch_bounds__(288, 1) int8_tma_gemm_m128n128c2x1(TMA_PARAMETERS) { TMA_BODY(128, 128, 2, 1, 6, false); }
extern "C" __global__ void TMA_CLUSTER(1, 2) __launch_bounds__(288, 1) int8_tma_gemm_m128n128c1x2(TMA_PARAMETERS) { TMA_BODY(128, 128, 1, 2, 6, false); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_gemm_m128n192c1x1(TMA_PARAMETERS) { TMA_BODY(128, 192, 1, 1, 5, false); }
extern "C" __global__ void TMA_CLUSTER(2, 1) __launch_bounds__(288, 1) int8_tma_gemm_m128n192c2x1(TMA_PARAMETERS) { TMA_BODY(128, 192, 2, 1, 5, false); }
extern "C" __global__ void TMA_CLUSTER(1, 2) __launch_bounds__(288, 1) int8_tma_gemm_m128n192c1x2(TMA_PARAMETERS) { TMA_BODY(128, 192, 1, 2, 5, false); }
extern "C" __global__ void TMA_CLUSTER(2, 2) __launch_bounds__(288, 1) int8_tma_gemm_m128n192c2x2(TMA_PARAMETERS) { TMA_BODY(128, 192, 2, 2, 5, false); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_gemm_m256n128c1x1(TMA_PARAMETERS) { TMA_BODY(256, 128, 1, 1, 4, false); }
extern "C" __global__ void TMA_CLUSTER(1, 2) __launch_bounds__(544, 1) int8_tma_gemm_m256n128c1x2(TMA_PARAMETERS) { TMA_BODY(256, 128, 1, 2, 4, false); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_gemm_m64n128c1x1(TMA_PARAMETERS) { TMA_BODY(64, 128, 1, 1, 4, false); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_swiglu_m128n128c1x1(TMA_PARAMETERS) { TMA_BODY(128, 128, 1, 1, 6, true); }
extern "C" __global__ void TMA_CLUSTER(2, 1) __launch_bounds__(288, 1) int8_tma_swiglu_m128n128c2x1(TMA_PARAMETERS) { TMA_BODY(128, 128, 2, 1, 6, true); }
extern "C" __global__ void TMA_CLUSTER(2, 1) __launch_bounds__(288, 1) int8_tma_swiglu_m128n192c2x1(TMA_PARAMETERS) { TMA_BODY(128, 192, 2, 1, 5, true); }
extern "C" __global__ void TMA_CLUSTER(2, 2) __launch_bounds__(288, 1) int8_tma_swiglu_m128n192c2x2(TMA_PARAMETERS) { TMA_BODY(128, 192, 2, 2, 5, true); }
extern "C" __global__ void TMA_CLUSTER(1, 2) __launch_bounds__(544, 1) int8_tma_swiglu_m256n128c1x2(TMA_PARAMETERS) { TMA_BODY(256, 128, 1, 2, 4, true); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_swiglu_m64n128c1x1(TMA_PARAMETERS) { TMA_BODY(64, 128, 1, 1, 4, true); }
