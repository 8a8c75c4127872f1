// What the own int8 tensor-core GEMMs share (int8_mma_gemm.cu on mma.sync, sm_80+; int8_wgmma_gemm.cu on wgmma,
// sm_90a): the outputs a launch serves, the staging of x and weight tiles into shared memory, and the epilogue.
//
// W8A8 linear (Xiao et al. 2023, SmoothQuant, section 3) in one launch: int8 x int8 -> exact int32 sums (|sum| <=
// K * 127^2 < 2^31 for K <= 2^16, in any order), then dequantize_int8's expression operation for operation, so the
// output is bit-identical to cuBLASLt + dequantize (+ add_in_place, + silu_mul) and to the CPU device.
//
// Layout: x is [T, K] int8 row-major, each weight [N, K] int8 row-major: both K-contiguous, the "row.col" (K-major)
// operand order of both mma.sync and wgmma. A block owns a BM x 128 tile and walks K in stages of 128 bytes kept
// IMMA_STAGES deep in shared memory by cp.async (16 bytes a copy, zero-filled past T, N or K). A shared row is 128
// bytes = 8 chunks of 16; chunk c of row r is stored at chunk c ^ (r & 7): conflict-free for ldmatrix, and exactly
// wgmma's 128-byte swizzle when a stage starts 1024-byte aligned.
//
// Outputs: up to three that share x (q, k and v; gate and up) per launch: blockIdx.y runs over the 128-column tiles of
// all of them in order, and a block finds its output from the tile starts. blockIdx.x is the row tile, so the blocks
// that share a weight tile run together and read it from DRAM once.
//
// SwiGLU (outputs 0 and 1 are gate and up): a block's 128 weight rows are 64 columns of both, interleaved per warp so
// that a thread's accumulators hold gate and up of the same outputs: of the SPAN rows a warp's tiles cover (32 for
// mma.sync, all 128 for wgmma), the first half are gate columns and the second half the same up columns. The thread
// writes silu(gate) * up (silu_mul's expression) to output 0; gate and up never reach memory.
//
// Output type: float or bf16, one for all outputs of a launch (a template argument of the kernel and its epilogue;
// the bf16 kernels' names end "_bf16"). A bf16 output holds the float result rounded once to nearest even; the residual
// add widens the old value, adds in float32 and rounds once; SwiGLU rounds gate and up to bf16 first (what the
// separate GEMMs would store and silu_mul read back) and rounds the product once, so it equals the unfused calls on
// bf16 tensors bit for bit. Where the float epilogue stores a float2, the bf16 one stores the pair packed in 32 bits.
//
// Requires K % 16 == 0 and 16-byte aligned x and weights (CudaDevice checks, else cuBLASLt runs).
#pragma once
#include "act_vector.cuh"

#define IMMA_BN 128
#define IMMA_BK 128   // bytes (int8 elements) of K per stage
#define IMMA_STAGES 3
#define IMMA_MAX_OUTPUTS 3

typedef unsigned int imma_u32;

struct ImmaOutput
{
    const signed char* weight;  // [outputs, K]
    const float* weightScales;  // [outputs]
    const float* bias;          // [outputs] or null
    void* output;               // [T, outputs], float or bf16_bits as the kernel's output type says
    int outputs;
    int accumulate;             // 1: output += result (the residual add), 0: output = result
};

struct ImmaOutputs
{
    ImmaOutput of[IMMA_MAX_OUTPUTS];
    int tileStarts[IMMA_MAX_OUTPUTS + 1]; // first column tile of each output; tileStarts[count] = all tiles
    int count;
};

// The output block (blockIdx.x, blockIdx.y) writes: which output, its first row and column, that output's width.
// A block of a grid padded to whole clusters may lie past the last tile: its columns start past n, so it writes nothing.
struct ImmaTile
{
    int which, m0, n0, n;
};

template <int BM, bool SWIGLU, int BN = IMMA_BN>
__device__ __forceinline__ ImmaTile imma_tile(const ImmaOutputs& outputs)
{
    int tile = blockIdx.y, which = 0;
    while (!SWIGLU && which + 1 < outputs.count && tile >= outputs.tileStarts[which + 1]) which++;
    // SwiGLU: a tile is BN / 2 output columns (of gate and of up).
    ImmaTile t;
    t.which = which;
    t.m0 = blockIdx.x * BM;
    t.n0 = (tile - outputs.tileStarts[which]) * (SWIGLU ? BN / 2 : BN);
    t.n = outputs.of[which].outputs;
    return t;
}

__device__ __forceinline__ imma_u32 imma_shared_address(const void* at)
{
    imma_u32 address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(at));
    return address;
}

// 16 bytes global -> shared; `bytes` = 0 writes 16 zeros instead (rows or columns past the end).
__device__ __forceinline__ void imma_copy16(imma_u32 to, const void* from, int bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(to), "l"(from), "r"(bytes) : "memory");
}

__device__ __forceinline__ imma_u32 imma_swizzled(int row, int chunk) { return (imma_u32)(row * IMMA_BK + ((chunk ^ (row & 7)) << 4)); }

// K tile kt of x (BM rows, at a) and of the block's weight rows (128, at b), every thread of THREADS copying its share.
template <int BM, int THREADS, int SPAN, bool SWIGLU>
__device__ __forceinline__ void imma_load_stage(imma_u32 a, imma_u32 b, int kt, const signed char* __restrict__ x, int tokens,
    int inner, const ImmaOutputs& outputs, const ImmaTile& tile)
{
    int k0 = kt * IMMA_BK;
#pragma unroll
    for (int i = 0; i < BM * 8 / THREADS; i++)
    {
        int c = threadIdx.x + i * THREADS, row = c >> 3, chunk = c & 7, k = k0 + chunk * 16, t = tile.m0 + row;
        bool inside = t < tokens && k < inner;
        imma_copy16(a + imma_swizzled(row, chunk), inside ? x + (long long)t * inner + k : x, inside ? 16 : 0);
    }
#pragma unroll
    for (int i = 0; i < IMMA_BN * 8 / THREADS; i++)
    {
        int c = threadIdx.x + i * THREADS, row = c >> 3, chunk = c & 7, k = k0 + chunk * 16;
        // Shared row `row` holds weight row o of output `from`: the tile's own rows, or (SwiGLU) of each SPAN rows the
        // first half gate columns and the second half the same up columns.
        int span = row / SPAN, within = row % SPAN;
        int from = SWIGLU ? within / (SPAN / 2) : tile.which;
        int o = SWIGLU ? tile.n0 + span * (SPAN / 2) + within % (SPAN / 2) : tile.n0 + row;
        const signed char* __restrict__ w = outputs.of[from].weight;
        bool inside = o < tile.n && k < inner;
        imma_copy16(b + imma_swizzled(row, chunk), inside ? w + (long long)o * inner + k : w, inside ? 16 : 0);
    }
}

// dequantize_int8's expression: (sum * token scale) * channel scale, each rounded, then + bias.
__device__ __forceinline__ float imma_dequantize(int sum, float tokenScale, const ImmaOutput& out, int n)
{
    float value = __fmul_rn(__fmul_rn(__int2float_rn(sum), tokenScale), out.weightScales[n]);
    return out.bias != nullptr ? __fadd_rn(value, out.bias[n]) : value;
}

// Writes a warp's accumulators: sums[i][j] is the 16 x 8 tile at rows row0 + 16 i, columns col0 + 8 j (mma.sync's and
// wgmma's shared register layout): thread (group g, index q) holds rows g and g + 8, columns 2q and 2q + 1. For SwiGLU
// tile j (gate) pairs with tile j + N_TILES / 2 (up) and col0 counts output columns (half the weight rows).
// Out is float or bf16_bits; the pair at columns (c, c + 1), c even, is one float2 or one packed 32-bit store.
template <int M_TILES, int N_TILES, bool SWIGLU, typename Out>
__device__ __forceinline__ void imma_epilogue(const int (&sums)[M_TILES][N_TILES][4], int row0, int col0,
    const float* __restrict__ tokenScales, int tokens, const ImmaOutputs& outputs, const ImmaTile& tile)
{
    const ImmaOutput& out = outputs.of[tile.which];
    int lane = threadIdx.x & 31, group = lane >> 2, quad = lane & 3, n = tile.n;
    bool pairs = (n & 1) == 0; // pair stores need every row to start 8-byte (float) or 4-byte (bf16) aligned
#pragma unroll
    for (int i = 0; i < M_TILES; i++)
    {
#pragma unroll
        for (int half = 0; half < 2; half++)
        {
            int t = row0 + i * 16 + group + half * 8;
            if (t >= tokens) continue;
            float tokenScale = tokenScales[t];
            Out* row = static_cast<Out*>(out.output) + (long long)t * n;
            if constexpr (SWIGLU)
            {
#pragma unroll
                for (int j = 0; j < N_TILES / 2; j++)
                {
                    int c = col0 + j * 8 + quad * 2;
                    float y[2];
#pragma unroll
                    for (int e = 0; e < 2; e++)
                    {
                        float g = imma_dequantize(sums[i][j][half * 2 + e], tokenScale, outputs.of[0], min(c + e, n - 1));
                        float u = imma_dequantize(sums[i][j + N_TILES / 2][half * 2 + e], tokenScale, outputs.of[1], min(c + e, n - 1));
                        // gate and up as the separate GEMMs would store them (a no-op for float), then silu_mul's expression.
                        g = act_float(act_element<Out>(g));
                        u = act_float(act_element<Out>(u));
                        y[e] = g / (1.0f + expf(-g)) * u;
                    }

                    if (pairs && c + 1 < n)
                    {
                        store_act2(row + c, 0, make_float2(y[0], y[1]));
                    }
                    else
                    {
                        if (c < n) row[c] = act_element<Out>(y[0]);
                        if (c + 1 < n) row[c + 1] = act_element<Out>(y[1]);
                    }
                }
            }
            else
            {
#pragma unroll
                for (int j = 0; j < N_TILES; j++)
                {
                    int c = col0 + j * 8 + quad * 2;
                    if (pairs && c + 1 < n)
                    {
                        float2 y = make_float2(imma_dequantize(sums[i][j][half * 2], tokenScale, out, c),
                            imma_dequantize(sums[i][j][half * 2 + 1], tokenScale, out, c + 1));
                        Out* at = row + c;
                        if (out.accumulate)
                        {
                            float2 old = load_act2(at, 0);
                            y.x = __fadd_rn(old.x, y.x);
                            y.y = __fadd_rn(old.y, y.y);
                        }

                        store_act2(at, 0, y);
                        continue;
                    }
#pragma unroll
                    for (int e = 0; e < 2; e++)
                    {
                        if (c + e >= n) continue;
                        float y = imma_dequantize(sums[i][j][half * 2 + e], tokenScale, out, c + e);
                        row[c + e] = act_element<Out>(out.accumulate ? __fadd_rn(act_float(row[c + e]), y) : y);
                    }
                }
            }
        }
    }
}
