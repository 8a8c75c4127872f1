// W8A8 linear at many tokens (Xiao et al. 2023, SmoothQuant, section 3) in one launch: the int8 tensor-core GEMM
// (mma.sync m16n8k32 s8 x s8 -> s32, sm_80+) with the dequantizing epilogue, and the residual add, in its last step.
// cuBLASLt's int8 GEMM can only write int32 (or int8), so the separate path writes T x N int32 sums and reads them back
// to dequantize, then reads and writes the residual again: at 512 tokens that round trip is what made the whole W8A8
// linear slower than a bf16 matmul. The sums here are exact int32 (|sum| <= K * 127^2 < 2^31 for K <= 2^16, in any
// order), and the epilogue is dequantize_int8's expression operation for operation, so the output is bit-identical
// to cuBLASLt + dequantize (+ add_in_place) and to the CPU device.
//
// Layout: x is [T, K] int8 row-major, each weight [N, K] int8 row-major: both K-contiguous, which is exactly the
// "row.col" operand order of mma, so ldmatrix loads both fragments without transposes. A block owns a BM x 128 tile
// of one output and walks K in stages of 128 bytes, kept IMMA_STAGES deep in shared memory by cp.async (16 bytes a
// copy, zero-filled past T, N or K). 8 warps as 2 (M) x 4 (N), each a (BM / 2) x 32 tile of int32 accumulators.
// A shared row is 128 bytes = 8 chunks of 16; chunk c of row r is stored at chunk c ^ (r & 7), so the 8 rows one
// ldmatrix phase reads fall in 8 different bank groups.
//
// One launch serves up to three outputs that share x (q, k and v; gate and up): blockIdx.y runs over the 128-column
// tiles of all of them in order, and a block finds its output from the tile starts. blockIdx.x is the row tile, so
// the blocks that share a weight tile run together and read it from DRAM once.
//
// SwiGLU variant (_swiglu): outputs 0 and 1 are gate and up, and the block's 128 weight rows are 64 columns of both,
// interleaved so that each warp's 32 rows are 16 gate columns then the same 16 up columns. A thread then holds gate
// and up of the same outputs in its own registers, and writes silu(gate) * up (silu_mul's expression) to output 0:
// the gate and up results never reach memory, only their product.
//
// Requires K % 16 == 0 and 16-byte aligned x and weights (CudaDevice checks, else cuBLASLt runs).

#define IMMA_BN 128
#define IMMA_BK 128   // bytes (int8 elements) of K per stage
#define IMMA_STAGES 3
#define IMMA_THREADS 256
#define IMMA_MAX_OUTPUTS 3

typedef unsigned int u32;

struct ImmaOutput
{
    const signed char* weight;  // [outputs, K]
    const float* weightScales;  // [outputs]
    const float* bias;          // [outputs] or null
    float* output;              // [T, outputs]
    int outputs;
    int accumulate;             // 1: output += result (the residual add), 0: output = result
};

struct ImmaOutputs
{
    ImmaOutput of[IMMA_MAX_OUTPUTS];
    int tileStarts[IMMA_MAX_OUTPUTS + 1]; // first column tile of each output; tileStarts[count] = all tiles
    int count;
};

__device__ __forceinline__ u32 shared_address(const void* at)
{
    u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(at));
    return address;
}

// 16 bytes global -> shared; `bytes` = 0 writes 16 zeros instead (rows or columns past the end).
__device__ __forceinline__ void cp_async16_zfill(u32 to, const void* from, int bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(to), "l"(from), "r"(bytes) : "memory");
}

__device__ __forceinline__ u32 swizzled(int row, int chunk) { return (u32)(row * IMMA_BK + ((chunk ^ (row & 7)) << 4)); }

#if __CUDA_ARCH__ >= 800 // int8 mma.sync m16n8k32 needs Ampere or later; older devices load this module but never launch it

__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 address)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
}

__device__ __forceinline__ void mma_s8(int (&d)[4], const u32 (&a)[4], u32 b0, u32 b1)
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// dequantize_int8's expression: (sum * token scale) * channel scale, each rounded, then + bias, then + the residual.
__device__ __forceinline__ float dequantize(int sum, float tokenScale, const ImmaOutput& out, int n)
{
    float value = __fmul_rn(__fmul_rn(__int2float_rn(sum), tokenScale), out.weightScales[n]);
    return out.bias != nullptr ? __fadd_rn(value, out.bias[n]) : value;
}

template <int BM, bool SWIGLU>
__device__ __forceinline__ void int8_mma_gemm(const signed char* __restrict__ x, const float* __restrict__ tokenScales,
    int tokens, int inner, const ImmaOutputs& outputs)
{
    constexpr int WARP_M = BM / 2, M_TILES = WARP_M / 16, N_TILES = 4; // a warp: M_TILES x 4 mma tiles of 16 x 8
    constexpr int A_BYTES = BM * IMMA_BK, STAGE_BYTES = (BM + IMMA_BN) * IMMA_BK;
    extern __shared__ __align__(128) unsigned char shared[];

    int tile = blockIdx.y, which = 0;
    while (!SWIGLU && which + 1 < outputs.count && tile >= outputs.tileStarts[which + 1]) which++;
    const ImmaOutput& out = outputs.of[which];
    // SwiGLU: a tile is 64 output columns (of gate and of up).
    int m0 = blockIdx.x * BM, n0 = (tile - outputs.tileStarts[which]) * (SWIGLU ? IMMA_BN / 2 : IMMA_BN), n = out.outputs;

    int thread = threadIdx.x, lane = thread & 31, warp = thread >> 5;
    int warpM = warp >> 2, warpN = warp & 3;
    u32 base = shared_address(shared);

    // Stage s of K tile kt: each thread copies BM / 32 chunks of x and 4 of the weight tile.
    auto load = [&](int stage, int kt) {
        u32 a = base + stage * STAGE_BYTES, b = a + A_BYTES;
        int k0 = kt * IMMA_BK;
#pragma unroll
        for (int i = 0; i < BM * 8 / IMMA_THREADS; i++)
        {
            int c = thread + i * IMMA_THREADS, row = c >> 3, chunk = c & 7, k = k0 + chunk * 16, t = m0 + row;
            bool inside = t < tokens && k < inner;
            cp_async16_zfill(a + swizzled(row, chunk), inside ? x + (long long)t * inner + k : x, inside ? 16 : 0);
        }
#pragma unroll
        for (int i = 0; i < IMMA_BN * 8 / IMMA_THREADS; i++)
        {
            int c = thread + i * IMMA_THREADS, row = c >> 3, chunk = c & 7, k = k0 + chunk * 16;
            // Shared row `row` holds weight row o of output `from`: the tile's own rows, or (SwiGLU) 16 gate then 16 up
            // columns per 32 rows.
            int from = SWIGLU ? (row >> 4) & 1 : which, o = SWIGLU ? n0 + (row >> 5) * 16 + (row & 15) : n0 + row;
            const signed char* __restrict__ w = outputs.of[from].weight;
            bool inside = o < n && k < inner;
            cp_async16_zfill(b + swizzled(row, chunk), inside ? w + (long long)o * inner + k : w, inside ? 16 : 0);
        }
    };

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
        if (s < kTiles) load(s, s);
        asm volatile("cp.async.commit_group;" ::: "memory");
    }

    // ldmatrix addresses within a stage. A (x4 = rows 0-7 / 8-15 x bytes 0-15 / 16-31 of a 16 x 32 block): lane l
    // gives row l & 15 at chunk l >> 4. B (x4 = two n8 tiles x bytes 0-15 / 16-31): lane l gives row
    // (l & 7) + 8 * (l >> 4) at chunk (l >> 3) & 1.
    int aRow = warpM * WARP_M + (lane & 15), aChunk = lane >> 4;
    int bRow = warpN * 32 + (lane & 7) + ((lane >> 4) << 3), bChunk = (lane >> 3) & 1;

    for (int kt = 0; kt < kTiles; kt++)
    {
        // Tile kt has landed (at most STAGES - 2 younger groups still in flight), and every warp is done with the
        // stage the next copy overwrites (the one computed in iteration kt - 1).
        asm volatile("cp.async.wait_group %0;" :: "n"(IMMA_STAGES - 2) : "memory");
        __syncthreads();
        if (kt + IMMA_STAGES - 1 < kTiles) load((kt + IMMA_STAGES - 1) % IMMA_STAGES, kt + IMMA_STAGES - 1);
        asm volatile("cp.async.commit_group;" ::: "memory");

        u32 a = base + (kt % IMMA_STAGES) * STAGE_BYTES, b = a + A_BYTES;
#pragma unroll
        for (int kk = 0; kk < IMMA_BK / 32; kk++)
        {
            u32 af[M_TILES][4], bf[N_TILES / 2][4];
#pragma unroll
            for (int i = 0; i < M_TILES; i++) ldmatrix_x4(af[i], a + swizzled(aRow + i * 16, kk * 2 + aChunk));
#pragma unroll
            for (int j = 0; j < N_TILES / 2; j++) ldmatrix_x4(bf[j], b + swizzled(bRow + j * 16, kk * 2 + bChunk));
#pragma unroll
            for (int i = 0; i < M_TILES; i++)
#pragma unroll
                for (int j = 0; j < N_TILES; j++)
                    mma_s8(sums[i][j], af[i], bf[j >> 1][(j & 1) * 2], bf[j >> 1][(j & 1) * 2 + 1]);
        }
    }

    asm volatile("cp.async.wait_group 0;" ::: "memory");

    // Epilogue straight from the accumulators: thread (group g, index q) holds rows g and g + 8 of each 16 x 8 tile,
    // columns 2q and 2q + 1.
    int group = lane >> 2, quad = lane & 3;
    bool pairs = (n & 1) == 0; // float2 stores need every row to start 8-byte aligned
#pragma unroll
    for (int i = 0; i < M_TILES; i++)
    {
#pragma unroll
        for (int half = 0; half < 2; half++)
        {
            int t = m0 + warpM * WARP_M + i * 16 + group + half * 8;
            if (t >= tokens) continue;
            float tokenScale = tokenScales[t];
            float* row = out.output + (long long)t * n;
            if constexpr (SWIGLU)
            {
                // Tiles j (gate) and j + 2 (up) hold the same columns.
#pragma unroll
                for (int j = 0; j < N_TILES / 2; j++)
                {
#pragma unroll
                    for (int e = 0; e < 2; e++)
                    {
                        int c = n0 + warpN * 16 + j * 8 + quad * 2 + e;
                        if (c >= n) continue;
                        float g = dequantize(sums[i][j][half * 2 + e], tokenScale, outputs.of[0], c);
                        float u = dequantize(sums[i][j + 2][half * 2 + e], tokenScale, outputs.of[1], c);
                        row[c] = g / (1.0f + expf(-g)) * u;
                    }
                }
            }
            else
            {
#pragma unroll
                for (int j = 0; j < N_TILES; j++)
                {
                    int c = n0 + warpN * 32 + j * 8 + quad * 2;
                    if (pairs && c + 1 < n)
                    {
                        float2 y = make_float2(dequantize(sums[i][j][half * 2], tokenScale, out, c),
                            dequantize(sums[i][j][half * 2 + 1], tokenScale, out, c + 1));
                        float2* at = reinterpret_cast<float2*>(row + c);
                        if (out.accumulate)
                        {
                            float2 old = *at;
                            y.x = __fadd_rn(old.x, y.x);
                            y.y = __fadd_rn(old.y, y.y);
                        }

                        *at = y;
                        continue;
                    }
#pragma unroll
                    for (int e = 0; e < 2; e++)
                    {
                        if (c + e >= n) continue;
                        float y = dequantize(sums[i][j][half * 2 + e], tokenScale, out, c + e);
                        row[c + e] = out.accumulate ? __fadd_rn(row[c + e], y) : y;
                    }
                }
            }
        }
    }
}

#endif

// 128-row tiles for many tokens; 64-row tiles when 128-row ones would leave SMs idle (CudaDevice picks). Two blocks
// per SM either way: 96 KB (BM 128) or 72 KB (BM 64) of shared memory each.
#if __CUDA_ARCH__ >= 800
#define IMMA_BODY(BM, SWIGLU) int8_mma_gemm<BM, SWIGLU>(x, tokenScales, tokens, inner, outputs)
#else
#define IMMA_BODY(BM, SWIGLU)
#endif
#define IMMA_PARAMETERS const signed char* x, const float* tokenScales, int tokens, int inner, ImmaOutputs outputs

extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m128(IMMA_PARAMETERS) { IMMA_BODY(128, false); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_gemm_m64(IMMA_PARAMETERS) { IMMA_BODY(64, false); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m128(IMMA_PARAMETERS) { IMMA_BODY(128, true); }
extern "C" __global__ void __launch_bounds__(IMMA_THREADS, 2) int8_mma_swiglu_m64(IMMA_PARAMETERS) { IMMA_BODY(64, true); }
