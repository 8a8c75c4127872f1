// W8A8 linear at a few tokens (Xiao et al. 2023, SmoothQuant, section 3), one launch: the int8 GEMV and its
// dequantizing epilogue. At T <= 8 tokens the linear is bound by reading the weights (N x K bytes) once, so each
// weight byte is loaded from global memory exactly once, 16 bytes a lane at a time, and multiplied with all T tokens'
// activations by dp4a (4 int8 products into an int32 per instruction). The sums are exact int32 (|sum| <= K * 127^2
// < 2^31 for K <= 2^16, whatever the order), so they equal cuBLASLt's, and the epilogue is dequantize_int8's
// expression, operation for operation: the output is bit-identical to the GEMM + dequantize path and the CPU device.
//
// Layout of the work: a warp owns GEMV_ROWS weight rows (output channels) and walks the whole of K; its 32 lanes take
// consecutive 16-byte chunks, so one warp-wide load reads 512 contiguous bytes of a row. Each lane first issues
// GEMV_UNROLL x GEMV_ROWS weight loads, then consumes them: 8 independent 16-byte loads in flight per lane keep enough
// bytes in flight to cover DRAM latency even when N / GEMV_ROWS warps are only a few per SM. Two rows a warp (not one)
// halve the activation reads per weight byte (each activation chunk feeds both rows); more would leave too few warps
// at N = 4096. A warp per row pair, not a block per row with split K: K <= 14336 is at most 28 chunks a lane, and the warp
// shuffle then finishes the sum without shared memory or a block barrier.
//
// Activations (T x K int8: at most 8 x 14 KB at Llama-3-8B's down projection) are read through the read-only path (__ldg) and stay in L1, since every
// warp of the SM re-reads them; the weights are read with L1::no_allocate, so the one-use weight stream does not evict
// them.
//
// Two variants per token count: _v16 when K % 16 == 0 and both int8 pointers are 16-byte aligned (every row then starts
// aligned), else byte loads packed into the same 16-byte chunks, zero past the row's end (any K, any alignment; for odd
// test shapes, not for speed).
//
// The output is float or bf16 (the kernels ending "_bf16"): the float result of the same operations, rounded once to
// bf16 at the store; accumulating adds it to the widened old value in float32 and rounds the sum once. A lane writes
// one output, so a bf16 store is 2 bytes; the T x N outputs are a small fraction of the N x K weight bytes, so the
// stores are not packed.
#include "act_vector.cuh"

#define GEMV_ROWS 2    // weight rows (output channels) per warp; CudaDevice's GemvRowsPerWarp
#define GEMV_UNROLL 4  // 16-byte chunks per row a lane loads before it consumes them
#define GEMV_WARPS 4   // warps per block; CudaDevice's GemvWarpsPerBlock
#define GEMV_THREADS (GEMV_WARPS * 32)

// One 16-byte weight chunk, not cached in L1 (read once per launch: L1 is left to the activations).
__device__ __forceinline__ int4 load_weight_chunk(const signed char* row, int chunk)
{
    int4 v;
    asm("ld.global.nc.L1::no_allocate.v4.s32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(reinterpret_cast<const int4*>(row) + chunk));
    return v;
}

// Four bytes k .. k + 3 of a row packed little-endian as __dp4a reads them (byte 0 = element k); bytes at or past
// `inner` are 0, so they add nothing to the sum.
__device__ __forceinline__ int pack4(const signed char* row, int k, int inner)
{
    unsigned int packed = 0;
#pragma unroll
    for (int b = 0; b < 4; b++)
    {
        if (k + b < inner) packed |= (unsigned int)(unsigned char)row[k + b] << (8 * b);
    }

    return (int)packed;
}

__device__ __forceinline__ int4 pack16(const signed char* row, int chunk, int inner)
{
    int k = chunk * 16;
    int4 v;
    v.x = pack4(row, k, inner);
    v.y = pack4(row, k + 4, inner);
    v.z = pack4(row, k + 8, inner);
    v.w = pack4(row, k + 12, inner);
    return v;
}

template <bool Vector>
__device__ __forceinline__ int4 weight_chunk(const signed char* row, int chunk, int inner)
{
    return Vector ? load_weight_chunk(row, chunk) : pack16(row, chunk, inner);
}

template <bool Vector>
__device__ __forceinline__ int4 activation_chunk(const signed char* row, int chunk, int inner)
{
    return Vector ? __ldg(reinterpret_cast<const int4*>(row) + chunk) : pack16(row, chunk, inner);
}

// sum + the four signed int8 products of a and b. PTX's dp4a, since the __dp4a intrinsic is declared in a toolkit
// header (sm_61_intrinsics.h) that NVRTC does not carry.
__device__ __forceinline__ int dp4a(int a, int b, int sum)
{
    int result;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(result) : "r"(a), "r"(b), "r"(sum));
    return result;
}

__device__ __forceinline__ int dot16(int4 a, int4 w, int sum)
{
    sum = dp4a(a.x, w.x, sum);
    sum = dp4a(a.y, w.y, sum);
    sum = dp4a(a.z, w.z, sum);
    return dp4a(a.w, w.w, sum);
}

// One step of a lane: chunks first, first + 32, .. of the warp's rows against all T tokens. All the weight loads come
// first, so they are in flight together; then each activation chunk (an L1 hit after the first warp) feeds every row.
template <int T, bool Vector, bool Guarded>
__device__ __forceinline__ void gemv_step(int (&sums)[T][GEMV_ROWS], const signed char* x, const signed char* const (&rows)[GEMV_ROWS],
    int first, int chunks, int inner)
{
    int4 weights[GEMV_UNROLL][GEMV_ROWS];
#pragma unroll
    for (int u = 0; u < GEMV_UNROLL; u++)
    {
        int chunk = first + u * 32;
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++)
        {
            weights[u][r] = !Guarded || chunk < chunks ? weight_chunk<Vector>(rows[r], chunk, inner) : make_int4(0, 0, 0, 0);
        }
    }

#pragma unroll
    for (int u = 0; u < GEMV_UNROLL; u++)
    {
        int chunk = first + u * 32;
        if (Guarded && chunk >= chunks) break;
#pragma unroll
        for (int t = 0; t < T; t++)
        {
            int4 a = activation_chunk<Vector>(x + (long long)t * inner, chunk, inner);
#pragma unroll
            for (int r = 0; r < GEMV_ROWS; r++) sums[t][r] = dot16(a, weights[u][r], sums[t][r]);
        }
    }
}

// output[t, n] (+)= (float)(sum_k x[t, k] * w[n, k]) * tokenScales[t] * weightScales[n] (+ bias[n]) for t < T and the
// warp's GEMV_ROWS rows n; `accumulate` adds to the output (the residual add) instead of overwriting it. T is a template argument so the T x GEMV_ROWS sums live in registers.
template <int T, bool Vector, typename Out>
__device__ __forceinline__ void int8_gemv(const signed char* __restrict__ x, const float* __restrict__ tokenScales,
    const signed char* __restrict__ w, const float* __restrict__ weightScales, const float* __restrict__ bias,
    Out* __restrict__ output, int outputs, int inner, int accumulate)
{
    static_assert(T * GEMV_ROWS <= 32, "one lane writes each output of the warp");
    int lane = threadIdx.x & 31;
    int n0 = (blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5)) * GEMV_ROWS;
    // Warp-uniform: a warp past the last row leaves as a whole, before any shuffle.
    if (n0 >= outputs) return;

    // A row past N (the last warp, N odd) re-reads the last row: valid memory, and its sums are never written.
    const signed char* rows[GEMV_ROWS];
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++) rows[r] = w + (long long)min(n0 + r, outputs - 1) * inner;

    int sums[T][GEMV_ROWS];
#pragma unroll
    for (int t = 0; t < T; t++)
    {
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) sums[t][r] = 0;
    }

    // Full steps need no bounds checks, so their 8 weight loads issue back to back (every step at K = 4096 and 14336);
    // a lane's last, partial step checks each chunk. The byte-load variant (odd shapes, not speed) takes only the
    // checked step: half the code.
    int chunks = (inner + 15) / 16, first = lane;
    if (Vector)
    {
        for (; first + 32 * (GEMV_UNROLL - 1) < chunks; first += 32 * GEMV_UNROLL)
        {
            gemv_step<T, Vector, false>(sums, x, rows, first, chunks, inner);
        }
    }

    for (; first < chunks; first += 32 * GEMV_UNROLL)
    {
        gemv_step<T, Vector, true>(sums, x, rows, first, chunks, inner);
    }

    // Every lane ends with every total (xor butterfly); int32 addition is exact, so the order does not matter.
#pragma unroll
    for (int t = 0; t < T; t++)
    {
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++)
        {
#pragma unroll
            for (int offset = 16; offset > 0; offset >>= 1) sums[t][r] += __shfl_xor_sync(0xffffffffu, sums[t][r], offset);
        }
    }

    // Lane t * GEMV_ROWS + r writes output (t, n0 + r). The select is unrolled so the sums stay in registers.
    int sum = 0;
#pragma unroll
    for (int t = 0; t < T; t++)
    {
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++)
        {
            if (lane == t * GEMV_ROWS + r) sum = sums[t][r];
        }
    }

    int t = lane / GEMV_ROWS, n = n0 + lane % GEMV_ROWS;
    if (t < T && n < outputs)
    {
        // dequantize_int8's expression exactly: (sum * token scale) * channel scale, rounded each step, then + bias,
        // then + the residual when accumulating.
        float value = __fmul_rn(__fmul_rn(__int2float_rn(sum), tokenScales[t]), weightScales[n]);
        if (bias != nullptr) value = __fadd_rn(value, bias[n]);
        Out* at = output + (long long)t * outputs + n;
        *at = act_element<Out>(accumulate ? __fadd_rn(act_float(*at), value) : value);
    }
}

#define GEMV_PARAMETERS(OUT) const signed char* x, const float* tokenScales, const signed char* w, const float* weightScales, \
    const float* bias, OUT* output, int outputs, int inner, int accumulate
#define GEMV_ARGUMENTS x, tokenScales, w, weightScales, bias, output, outputs, inner, accumulate

// One kernel per token count (1 .. 8, CudaDevice.Int8GemvMaxTokens), load width and output type; grid:
// ceil(N / (GEMV_ROWS x GEMV_WARPS)) blocks of GEMV_THREADS threads.
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t1(GEMV_PARAMETERS(float)) { int8_gemv<1, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t2(GEMV_PARAMETERS(float)) { int8_gemv<2, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t3(GEMV_PARAMETERS(float)) { int8_gemv<3, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t4(GEMV_PARAMETERS(float)) { int8_gemv<4, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t5(GEMV_PARAMETERS(float)) { int8_gemv<5, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t6(GEMV_PARAMETERS(float)) { int8_gemv<6, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t7(GEMV_PARAMETERS(float)) { int8_gemv<7, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t8(GEMV_PARAMETERS(float)) { int8_gemv<8, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t1(GEMV_PARAMETERS(float)) { int8_gemv<1, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t2(GEMV_PARAMETERS(float)) { int8_gemv<2, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t3(GEMV_PARAMETERS(float)) { int8_gemv<3, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t4(GEMV_PARAMETERS(float)) { int8_gemv<4, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t5(GEMV_PARAMETERS(float)) { int8_gemv<5, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t6(GEMV_PARAMETERS(float)) { int8_gemv<6, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t7(GEMV_PARAMETERS(float)) { int8_gemv<7, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t8(GEMV_PARAMETERS(float)) { int8_gemv<8, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t1_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<1, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t2_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<2, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t3_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<3, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t4_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<4, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t5_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<5, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t6_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<6, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t7_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<7, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_v16_t8_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<8, true>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t1_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<1, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t2_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<2, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t3_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<3, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t4_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<4, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t5_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<5, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t6_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<6, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t7_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<7, false>(GEMV_ARGUMENTS); }
extern "C" __global__ void __launch_bounds__(GEMV_THREADS) int8_gemv_t8_bf16(GEMV_PARAMETERS(bf16_bits)) { int8_gemv<8, false>(GEMV_ARGUMENTS); }
