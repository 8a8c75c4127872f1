// W8A8 linear at many tokens on Hopper's warpgroup MMA (wgmma.mma_async m64n128k32 s8 x s8 -> s32, sm_90a): the int8
// tensor-core GEMM with the dequantizing epilogue, the residual add or SwiGLU fused, in one launch (int8_gemm.cuh says
// what is shared and why). mma.sync (int8_mma_gemm.cu) reaches about a third of an H100/H200's int8 rate; wgmma reads
// both operands straight from shared memory, so a warpgroup issues one instruction per 64 x 128 x 32 block.
//
// A block is BM / 64 warpgroups; warpgroup g multiplies x rows [64 g, 64 g + 64) of the tile by all 128 weight rows.
// Stages are staged by cp.async exactly as for mma.sync: the swizzle int8_gemm.cuh stores (chunk c of row r at chunk
// c ^ (r & 7), rows of 128 bytes) is wgmma's 128-byte swizzle, given 1024-byte aligned stages, so a descriptor with
// that swizzle, 1024 bytes between 8-row groups, and its start moved 32 bytes per k32 step reads them in place.
// A thread's 64 accumulators follow mma.sync's layout tiled over 16 column blocks of 8, so the shared epilogue writes them.
//
// Per K tile: the copies have landed and are made visible to the async proxy (fence.proxy.async), a barrier, the copy
// of the tile two ahead issued, then four wgmma (K = 128 bytes) committed; a warpgroup waits only for the batch before,
// so one batch is always in flight across the barrier (four stages: two landing, one read, one still being read).
#include "int8_gemm.cuh"

#define WGMMA_STAGES 4 // shared-memory stages of a K tile (128 bytes) each
#define WGMMA_AHEAD 2  // K tiles copied ahead of the one multiplied: the other stages hold the batch still in flight

#if defined(__CUDA_ARCH_FEAT_SM90_ALL) // wgmma exists only on sm_90a; other devices load this module but never launch it
#include "wgmma.cuh"

template <int BM, bool SWIGLU, typename Out>
__device__ __forceinline__ void int8_wgmma_gemm(const signed char* __restrict__ x, const float* __restrict__ tokenScales,
    int tokens, int inner, const ImmaOutputs& outputs)
{
    constexpr int THREADS = BM * 2;                 // a warpgroup (128 threads) per 64 rows
    constexpr int SPAN = IMMA_BN;                   // a warp's accumulators cover all 128 weight rows
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + IMMA_BN) * IMMA_BK;
    extern __shared__ __align__(1024) unsigned char shared[];

    ImmaTile tile = imma_tile<BM, SWIGLU>(outputs);
    int warp = threadIdx.x >> 5, group = warp >> 2;
    // Stages start 1024-byte aligned (the swizzle's period); the launch asks 1024 bytes more for this.
    imma_u32 base = (imma_shared_address(shared) + 1023) & ~1023u;

    int sums[1][16][4];
#pragma unroll
    for (int j = 0; j < 16; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) sums[0][j][e] = 0;
    int (&d)[64] = *reinterpret_cast<int (*)[64]>(&sums[0][0][0]);

    auto load = [&](int kt) {
        imma_u32 a = base + (kt % WGMMA_STAGES) * STAGE_BYTES;
        imma_load_stage<BM, THREADS, SPAN, SWIGLU>(a, a + A_BYTES, kt, x, tokens, inner, outputs, tile);
    };

    int kTiles = (inner + IMMA_BK - 1) / IMMA_BK;
#pragma unroll
    for (int s = 0; s < WGMMA_AHEAD; s++)
    {
        if (s < kTiles) load(s);
        asm volatile("cp.async.commit_group;" ::: "memory");
    }

    for (int kt = 0; kt < kTiles; kt++)
    {
        // Tile kt has landed (only the WGMMA_AHEAD - 1 younger copies may be in flight); made visible to wgmma's async
        // proxy; and after the barrier every warpgroup has finished the wgmma of tile kt - 2 (each waited for all but its
        // latest batch), whose stage the copy issued next overwrites.
        asm volatile("cp.async.wait_group %0;" :: "n"(WGMMA_AHEAD - 1) : "memory");
        asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
        __syncthreads();
        if (kt + WGMMA_AHEAD < kTiles) load(kt + WGMMA_AHEAD);
        asm volatile("cp.async.commit_group;" ::: "memory");

        imma_u32 a = base + (kt % WGMMA_STAGES) * STAGE_BYTES + group * 64 * IMMA_BK;
        imma_u32 b = base + (kt % WGMMA_STAGES) * STAGE_BYTES + A_BYTES;
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int kk = 0; kk < IMMA_BK / 32; kk++)
        {
            wgmma_m64n128k32(d, wgmma_descriptor(a + kk * 32), wgmma_descriptor(b + kk * 32));
        }

        // This batch keeps the tensor cores busy through the next iteration's barrier and copies; the previous one is done.
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
    }

    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    asm volatile("cp.async.wait_group 0;" ::: "memory");
    imma_epilogue<1, 16, SWIGLU, Out>(sums, tile.m0 + group * 64 + (warp & 3) * 16, tile.n0, tokenScales, tokens, outputs, tile);
}

#define WGMMA_BODY(BM, SWIGLU, OUT) int8_wgmma_gemm<BM, SWIGLU, OUT>(x, tokenScales, tokens, inner, outputs)
#else
#define WGMMA_BODY(BM, SWIGLU, OUT)
#endif

#define WGMMA_PARAMETERS const signed char* x, const float* tokenScales, int tokens, int inner, ImmaOutputs outputs

// 256-row tiles (four warpgroups), 128 (two) or 64 (one): CudaDevice picks the one that covers the GPU best. 193, 129
// or 97 KB of shared memory: one block per SM, or two for 64-row tiles. Float outputs, or bf16 ("_bf16").
extern "C" __global__ void __launch_bounds__(512, 1) int8_wgmma_gemm_m256(WGMMA_PARAMETERS) { WGMMA_BODY(256, false, float); }
extern "C" __global__ void __launch_bounds__(256, 1) int8_wgmma_gemm_m128(WGMMA_PARAMETERS) { WGMMA_BODY(128, false, float); }
extern "C" __global__ void __launch_bounds__(128, 2) int8_wgmma_gemm_m64(WGMMA_PARAMETERS) { WGMMA_BODY(64, false, float); }
extern "C" __global__ void __launch_bounds__(512, 1) int8_wgmma_swiglu_m256(WGMMA_PARAMETERS) { WGMMA_BODY(256, true, float); }
extern "C" __global__ void __launch_bounds__(256, 1) int8_wgmma_swiglu_m128(WGMMA_PARAMETERS) { WGMMA_BODY(128, true, float); }
extern "C" __global__ void __launch_bounds__(128, 2) int8_wgmma_swiglu_m64(WGMMA_PARAMETERS) { WGMMA_BODY(64, true, float); }
extern "C" __global__ void __launch_bounds__(512, 1) int8_wgmma_gemm_m256_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(256, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(256, 1) int8_wgmma_gemm_m128_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(128, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(128, 2) int8_wgmma_gemm_m64_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(64, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(512, 1) int8_wgmma_swiglu_m256_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(256, true, bf16_bits); }
extern "C" __global__ void __launch_bounds__(256, 1) int8_wgmma_swiglu_m128_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(128, true, bf16_bits); }
extern "C" __global__ void __launch_bounds__(128, 2) int8_wgmma_swiglu_m64_bf16(WGMMA_PARAMETERS) { WGMMA_BODY(64, true, bf16_bits); }
