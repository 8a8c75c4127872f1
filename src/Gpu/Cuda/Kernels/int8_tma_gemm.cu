// W8A8 linear at many tokens on Hopper, fed by the Tensor Memory Accelerator: the same wgmma GEMM and fused epilogue
// as int8_wgmma_gemm.cu, but shared memory is filled by TMA (cp.async.bulk.tensor) issued by one producer lane instead
// of every thread's cp.async, so the multiplying warps spend no issue slots, registers or barriers on copies. On an
// H200 this took the 512-token q/k/v GEMM from 39 to 32 µs and every Llama-3-8B shape to 1.1-1.6x torch._int_mm
// (docs/BENCHMARKS.md). Multicasting shared tiles across clusters of 2 or 4 blocks was tried and measured no faster:
// at these tiles the SM's shared-memory bandwidth (TMA writes plus wgmma reads), not L2, bounds a block.
//
// A block is BM / 64 consumer warpgroups and one producer warp:
// - the producer's first lane walks K: waits until the consumers have released the stage (mbarrier `empty`),
//   announces the stage's bytes on `full`, and issues the x box and the weight box(es);
// - each consumer warpgroup waits on `full`, issues four wgmma (K = 128 bytes) for its 64 rows, keeps one batch in
//   flight, and releases the stage before it once that batch is done;
// - then the shared epilogue (int8_gemm.cuh) writes its accumulators, bit for bit as the other paths.
// TMA writes the 128-byte swizzle (chunk c of row r at c ^ (r & 7)) that the wgmma descriptors read, and fills rows
// and columns past the tensor with zeros, so ragged T, N and K need no special case. Tiles are 256, 128 or 64 rows by
// 128 columns, or 256 by 96 (q/k/v at 512 tokens: 130 blocks fill the 132 SMs where 256 x 128 left 36 idle).
#include "int8_gemm.cuh"

// CUtensorMap: 128 opaque bytes, encoded on the host by cuTensorMapEncodeTiled (CudaDevice.Int8Tma.cs).
struct __align__(64) TmaMap
{
    unsigned long long opaque[16];
};

// x [T, K] int8 (boxes of 128 bytes of K by BM rows), and each weight [N, K] int8 (by BN rows, or BN / 2 for SwiGLU).
struct TmaMaps
{
    TmaMap x;
    TmaMap weight[IMMA_MAX_OUTPUTS];
};

#if defined(__CUDA_ARCH_FEAT_SM90_ALL) // TMA and wgmma exist only on sm_90a; other devices never launch these
#include "wgmma.cuh"
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

// A box of the tensor at (k, row) into this block's shared memory; its bytes complete `barrier`.
__device__ __forceinline__ void tma_load(imma_u32 to, const TmaMap* map, int k, int row, imma_u32 barrier)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
        :: "r"(to), "l"(map), "r"(k), "r"(row), "r"(barrier) : "memory");
}

template <int BN>
__device__ __forceinline__ void wgmma_k32(int (&d)[BN / 2], unsigned long long a, unsigned long long b)
{
    if constexpr (BN == 96) wgmma_m64n96k32(d, a, b);
    else wgmma_m64n128k32(d, a, b);
}

// Waits until the grid this one was launched as a programmatic dependent of (the per-token quantization that made x's
// codes and scales) has finished and its writes are visible; at once for a grid launched the ordinary way.
__device__ __forceinline__ void wait_for_prerequisite_grid()
{
    asm volatile("griddepcontrol.wait;" ::: "memory");
}

// K tile kt's weight box(es) into stage kt % STAGES.
template <int BM, int BN, int STAGES, bool SWIGLU>
__device__ __forceinline__ void tma_load_weights(const TmaMaps& maps, int kt, imma_u32 base, imma_u32 full, const ImmaTile& tile)
{
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + BN) * IMMA_BK;
    int s = kt % STAGES, k = kt * IMMA_BK;
    imma_u32 b = base + s * STAGE_BYTES + A_BYTES, barrier = full + 8 * s;
    if constexpr (SWIGLU)
    {
        // The first BN / 2 shared rows are gate's columns from n0, the rest up's same columns.
        tma_load(b, &maps.weight[0], k, tile.n0, barrier);
        tma_load(b + BN / 2 * IMMA_BK, &maps.weight[1], k, tile.n0, barrier);
    }
    else
    {
        tma_load(b, &maps.weight[tile.which], k, tile.n0, barrier);
    }
}

// The producer's first lane: every K tile's x and weight boxes into the stage ring. The weights are constant, so the
// first tile of them is requested before waiting for the grid that writes x: under a programmatic launch it streams in
// while that grid finishes. Only the first: more weight tiles ahead of x's first would delay the first multiply when
// there is nothing to overlap. Each stage announces all its bytes (x's too) before its first copy.
template <int BM, int BN, int STAGES, bool SWIGLU>
__device__ __forceinline__ void tma_produce(const TmaMaps& maps, int kTiles, imma_u32 base, imma_u32 full, imma_u32 empty, const ImmaTile& tile)
{
    constexpr int STAGE_BYTES = (BM + BN) * IMMA_BK;
    mbarrier_expect_bytes(full, STAGE_BYTES);
    tma_load_weights<BM, BN, STAGES, SWIGLU>(maps, 0, base, full, tile);
    wait_for_prerequisite_grid();
    for (int kt = 0; kt < kTiles; kt++)
    {
        int s = kt % STAGES, round = kt / STAGES;
        imma_u32 barrier = full + 8 * s;
        if (kt > 0)
        {
            if (round > 0) mbarrier_wait(empty + 8 * s, (round - 1) & 1);
            mbarrier_expect_bytes(barrier, STAGE_BYTES);
            tma_load_weights<BM, BN, STAGES, SWIGLU>(maps, kt, base, full, tile);
        }

        tma_load(base + s * STAGE_BYTES, &maps.x, kt * IMMA_BK, tile.m0, barrier);
    }
}

template <int BM, int BN, int STAGES, bool SWIGLU, typename Out>
__device__ __forceinline__ void int8_tma_gemm(const TmaMaps& maps, const float* __restrict__ tokenScales, int tokens,
    int inner, const ImmaOutputs& outputs)
{
    constexpr int CONSUMER_WARPS = BM / 16;
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + BN) * IMMA_BK;
    extern __shared__ __align__(1024) unsigned char shared[];
    __shared__ __align__(8) unsigned long long fullBarriers[STAGES], emptyBarriers[STAGES];

    ImmaTile tile = imma_tile<BM, SWIGLU, BN>(outputs);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    // Stages start 1024-byte aligned (the swizzle's period); the launch asks 1024 bytes more for this.
    imma_u32 base = (imma_shared_address(shared) + 1023) & ~1023u;
    imma_u32 full = imma_shared_address(fullBarriers), empty = imma_shared_address(emptyBarriers);
    if (threadIdx.x == 0)
    {
        for (int s = 0; s < STAGES; s++)
        {
            mbarrier_init(full + 8 * s, 1);               // the producer's arrival, plus the bytes
            mbarrier_init(empty + 8 * s, CONSUMER_WARPS); // every consumer warp
        }
        // The barriers are initialised before TMA (the async proxy) or another thread signals them.
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }

    __syncthreads();

    int kTiles = (inner + IMMA_BK - 1) / IMMA_BK;
    if (warp == CONSUMER_WARPS)
    {
        if (lane == 0) tma_produce<BM, BN, STAGES, SWIGLU>(maps, kTiles, base, full, empty, tile);
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
            // The batch before this one is done: its stage may be refilled.
            if (kt > 0 && lane == 0) mbarrier_arrive(empty + 8 * ((kt - 1) % STAGES));
            __syncwarp();
        }

        asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
        // The token scales, and the output it accumulates into, may come from the grid before this one.
        wait_for_prerequisite_grid();
        imma_epilogue<1, BN / 8, SWIGLU, Out>(sums, tile.m0 + group * 64 + (warp & 3) * 16, tile.n0, tokenScales, tokens, outputs, tile);
    }
}

#define TMA_BODY(BM, BN, STAGES, SWIGLU, OUT) int8_tma_gemm<BM, BN, STAGES, SWIGLU, OUT>(maps, tokenScales, tokens, inner, outputs)
#else
#define TMA_GRID_CONSTANT
#define TMA_BODY(BM, BN, STAGES, SWIGLU, OUT)
#endif

#define TMA_PARAMETERS const TMA_GRID_CONSTANT TmaMaps maps, const float* tokenScales, int tokens, int inner, ImmaOutputs outputs

// int8_tma_{gemm|swiglu}_m{BM}n{BN}: BM x BN tiles with as many stages of (BM + BN) x 128 bytes as fit in about 200 KB
// (96 KB for 64 rows: two blocks an SM). CudaDevice's Int8TmaTile lists the same, and picks one for a shape.
// Float outputs, or bf16 (the names ending "_bf16").
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_gemm_m256n128(TMA_PARAMETERS) { TMA_BODY(256, 128, 4, false, float); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_gemm_m256n96(TMA_PARAMETERS) { TMA_BODY(256, 96, 4, false, float); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_gemm_m128n128(TMA_PARAMETERS) { TMA_BODY(128, 128, 6, false, float); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_gemm_m64n128(TMA_PARAMETERS) { TMA_BODY(64, 128, 4, false, float); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_swiglu_m256n128(TMA_PARAMETERS) { TMA_BODY(256, 128, 4, true, float); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_swiglu_m128n128(TMA_PARAMETERS) { TMA_BODY(128, 128, 6, true, float); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_swiglu_m64n128(TMA_PARAMETERS) { TMA_BODY(64, 128, 4, true, float); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_gemm_m256n128_bf16(TMA_PARAMETERS) { TMA_BODY(256, 128, 4, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_gemm_m256n96_bf16(TMA_PARAMETERS) { TMA_BODY(256, 96, 4, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_gemm_m128n128_bf16(TMA_PARAMETERS) { TMA_BODY(128, 128, 6, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_gemm_m64n128_bf16(TMA_PARAMETERS) { TMA_BODY(64, 128, 4, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(544, 1) int8_tma_swiglu_m256n128_bf16(TMA_PARAMETERS) { TMA_BODY(256, 128, 4, true, bf16_bits); }
extern "C" __global__ void __launch_bounds__(288, 1) int8_tma_swiglu_m128n128_bf16(TMA_PARAMETERS) { TMA_BODY(128, 128, 6, true, bf16_bits); }
extern "C" __global__ void __launch_bounds__(160, 2) int8_tma_swiglu_m64n128_bf16(TMA_PARAMETERS) { TMA_BODY(64, 128, 4, true, bf16_bits); }
