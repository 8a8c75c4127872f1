// W8A8 linear at many tokens on mma.sync (m16n8k32 s8 x s8 -> s32, sm_80+): the int8 tensor-core GEMM with the
// dequantizing epilogue, the residual add or SwiGLU fused, in one launch (int8_gemm.cuh says what is shared and why).
// On Hopper wgmma (int8_wgmma_gemm.cu) reaches far more of the tensor cores; this kernel serves Ampere and Ada, and
// on Hopper the token counts where its 64-row tiles fill the GPU better.
//
// 8 warps as 2 (M) x 4 (N), each a (BM / 2) x 32 tile of int32 accumulators fed by ldmatrix from the swizzled stages.
#include "int8_gemm.cuh"

#define IMMA_THREADS 256

#if __CUDA_ARCH__ >= 800 // int8 mma.sync m16n8k32 needs Ampere or later; older devices load this module but never launch it

__device__ __forceinline__ void ldmatrix_x4(imma_u32 (&r)[4], imma_u32 address)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
}

__device__ __forceinline__ void mma_s8(int (&d)[4], const imma_u32 (&a)[4], imma_u32 b0, imma_u32 b1)
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int BM, bool SWIGLU, typename Out>
__device__ __forceinline__ void int8_mma_gemm(const signed char* __restrict__ x, const float* __restrict__ tokenScales,
    int tokens, int inner, const ImmaOutputs& outputs)
{
    constexpr int WARP_M = BM / 2, M_TILES = WARP_M / 16, N_TILES = 4; // a warp: M_TILES x 4 mma tiles of 16 x 8
    constexpr int SPAN = 32;                                           // weight rows a warp's tiles cover
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + IMMA_BN) * IMMA_BK;
    extern __shared__ __align__(128) unsigned char shared[];

    ImmaTile tile = imma_tile<BM, SWIGLU>(outputs);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warpM = warp >> 2, warpN = warp & 3;
    imma_u32 base = imma_shared_address(shared);

    int sums[M_TILES][N_TILES][4];
#pragma unroll
    for (int i = 0; i < M_TILES; i++)
#pragma unroll
        for (int j = 0; j < N_TILES; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) sums[i][j][e] = 0;

    int kTiles = (inner + IMMA_BK - 1) / IMMA_BK;
#pragma unroll
    for (int s = 0; s < IMMA_STAGES - 1; s++)
    {
        if (s < kTiles)
        {
            imma_u32 a = base + s * STAGE_BYTES;
            imma_load_stage<BM, IMMA_THREADS, SPAN, SWIGLU>(a, a + A_BYTES, s, x, tokens, inner, outputs, tile);
        }

        asm volatile("cp.async.commit_group;" ::: "memory");
    }

    // ldmatrix addresses within a stage. A (x4 = rows 0-7 / 8-15 x bytes 0-15 / 16-31 of a 16 x 32 block): lane l
    // gives row l & 15 at chunk l >> 4. B (x4 = two n8 tiles x bytes 0-15 / 16-31): lane l gives row
    // (l & 7) + 8 * (l >> 4) at chunk (l >> 3) & 1.
    int aRow = warpM * WARP_M + (lane & 15), aChunk = lane >> 4;
    int bRow = warpN * SPAN + (lane & 7) + ((lane >> 4) << 3), bChunk = (lane >> 3) & 1;

    for (int kt = 0; kt < kTiles; kt++)
    {
        // Tile kt has landed (at most STAGES - 2 younger groups still in flight), and every warp is done with the
        // stage the next copy overwrites (the one computed in iteration kt - 1).
        asm volatile("cp.async.wait_group %0;" :: "n"(IMMA_STAGES - 2) : "memory");
        __syncthreads();
        int next = kt + IMMA_STAGES - 1;
        if (next < kTiles)
        {
            imma_u32 a = base + (next % IMMA_STAGES) * STAGE_BYTES;
            imma_load_stage<BM, IMMA_THREADS, SPAN, SWIGLU>(a, a + A_BYTES, next, x, tokens, inner, outputs, tile);
        }

        asm volatile("cp.async.commit_group;" ::: "memory");

        imma_u32 a = base + (kt % IMMA_STAGES) * STAGE_BYTES, b = a + A_BYTES;
#pragma unroll
        for (int kk = 0; kk < IMMA_BK / 32; kk++)
        {
            imma_u32 af[M_TILES][4], bf[N_TILES / 2][4];
#pragma unroll
            for (int i = 0; i < M_TILES; i++) ldmatrix_x4(af[i], a + imma_swizzled(aRow + i * 16, kk * 2 + aChunk));
#pragma unroll
            for (int j = 0; j < N_TILES / 2; j++) ldmatrix_x4(bf[j], b + imma_swizzled(bRow + j * 16, kk * 2 + bChunk));
#pragma unroll
            for (int i = 0; i < M_TILES; i++)
#pragma unroll
                for (int j = 0; j < N_TILES; j++)
                    mma_s8(sums[i][j], af[i], bf[j >> 1][(j & 1) * 2], bf[j >> 1][(j & 1) * 2 + 1]);
        }
    }

    asm volatile("cp.async.wait_group 0;" ::: "memory");
    int col0 = tile.n0 + warpN * (SWIGLU ? SPAN / 2 : SPAN);
    imma_epilogue<M_TILES, N_TILES, SWIGLU, Out>(sums, tile.m0 + warpM * WARP_M, col0, tokenScales, tokens, outputs, tile);
}

#endif

// 128-row tiles for many tokens; 64-row tiles when 128-row ones would leave SMs idle (CudaDevice picks). Two blocks
// per SM either way: 96 KB (BM 128) or 72 KB (BM 64) of shared memory each. Float outputs, or bf16 ("_bf16").
#if __CUDA_ARCH__ >= 800
#define IMMA_BODY(BM, SWIGLU, OUT) int8_mma_gemm<BM, SWIGLU, OUT>(x, tokenScales, tokens, inner, outputs)
#else
#define IMMA_BODY(BM, SWIGLU, OUT)
#endif
#define IMMA_PARAMETERS const signed char* x, const float* tokenScales, int tokens, int inner, ImmaOutputs outputs

extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m128(IMMA_PARAMETERS) { IMMA_BODY(128, false, float); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m64(IMMA_PARAMETERS) { IMMA_BODY(64, false, float); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m128(IMMA_PARAMETERS) { IMMA_BODY(128, true, float); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m64(IMMA_PARAMETERS) { IMMA_BODY(64, true, float); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m128_bf16(IMMA_PARAMETERS) { IMMA_BODY(128, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m64_bf16(IMMA_PARAMETERS) { IMMA_BODY(64, false, bf16_bits); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m128_bf16(IMMA_PARAMETERS) { IMMA_BODY(128, true, bf16_bits); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m64_bf16(IMMA_PARAMETERS) { IMMA_BODY(64, true, bf16_bits); }
