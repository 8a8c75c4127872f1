// Calibration statistics: per-column absolute maxima (SmoothQuant) and xᵀx in double (GPTQ's Hessian), of a Float32
// or a BFloat16 x (the input of bf16 linears as they see it).
#include "bfloat16.cuh"

__device__ __forceinline__ int stats_imax(int a, int b) { return a > b ? a : b; }

// |x| as the bits of a non-negative float, read as an int: a float's sign cleared; a bf16's sign cleared and widened.
__device__ __forceinline__ int magnitude_bits(const float* x, long long i) { return (int)(__float_as_uint(x[i]) & 0x7fffffffu); }
__device__ __forceinline__ int magnitude_bits(const bf16_bits* x, long long i) { return (int)(((unsigned int)x[i] & 0x7fffu) << 16); }

__device__ __forceinline__ double widened(const float* x, long long i) { return (double)x[i]; }
__device__ __forceinline__ double widened(const bf16_bits* x, long long i) { return (double)bf16_to_float(x[i]); }

// absMax[c] = max(absMax[c], max over this block's rows of |x[r, c]|). Threads run over columns, so each row is read
// coalesced; blockIdx.y picks a chunk of rows and the chunks merge by atomicMax. |x| is x's bits with the sign bit
// cleared, and for non-negative floats integer order is float order (a NaN's bits exceed +inf's, so a NaN wins, as in
// a max that propagates NaN): the whole reduction is an exact integer max. Any negative absMax (sign bit set, a
// negative int) loses to every |x|.
template <typename T>
__device__ __forceinline__ void column_abs_max_of(const T* x, float* absMax, int rows, int columns, int rowsPerBlock)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= columns) return;
    long long first = (long long)blockIdx.y * rowsPerBlock;
    long long last = first + rowsPerBlock < rows ? first + rowsPerBlock : (long long)rows;
    const T* column = x + c;
    int best0 = 0, best1 = 0;
    long long r = first;
    // Two independent chains, so two loads are in flight per thread.
    for (; r + 1 < last; r += 2)
    {
        best0 = stats_imax(best0, magnitude_bits(column, r * columns));
        best1 = stats_imax(best1, magnitude_bits(column, (r + 1) * columns));
    }
    if (r < last) best0 = stats_imax(best0, magnitude_bits(column, r * columns));
    atomicMax((int*)absMax + c, stats_imax(best0, best1));
}

extern "C" __global__ void column_abs_max(const float* x, float* absMax, int rows, int columns, int rowsPerBlock)
{
    column_abs_max_of(x, absMax, rows, columns, rowsPerBlock);
}

extern "C" __global__ void column_abs_max_bf16(const bf16_bits* x, float* absMax, int rows, int columns, int rowsPerBlock)
{
    column_abs_max_of(x, absMax, rows, columns, rowsPerBlock);
}

// y = (double)x, exact; the Gram matrix's GEMM then reads doubles.
extern "C" __global__ void float_to_double(const float* x, double* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = (double)x[i];
}

// gram[i, j] += Σ_t x[t, i]·x[t, j] for the upper triangle, in double, where cuBLASLt is not used: a 16 × 16 block per
// 16 × 16 tile of gram at or above the diagonal (blockIdx.y = tile row, blockIdx.x = tile column), 16 rows of x at a
// time through shared memory. A diagonal tile also writes its lower half (the same sums, so still xᵀx).
template <typename T>
__device__ __forceinline__ void gram_f64_tiled_of(const T* x, double* gram, int tokens, int n)
{
    if (blockIdx.y > blockIdx.x) return;
    __shared__ double left[16][17];
    __shared__ double right[16][17];
    int tx = threadIdx.x, ty = threadIdx.y;
    int i = blockIdx.y * 16 + ty, j = blockIdx.x * 16 + tx;
    int loadLeft = blockIdx.y * 16 + tx, loadRight = blockIdx.x * 16 + tx;
    double sum = 0.0;
    for (int t0 = 0; t0 < tokens; t0 += 16)
    {
        int t = t0 + ty;
        left[ty][tx] = t < tokens && loadLeft < n ? widened(x, (long long)t * n + loadLeft) : 0.0;
        right[ty][tx] = t < tokens && loadRight < n ? widened(x, (long long)t * n + loadRight) : 0.0;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < 16; k++) sum = __fma_rn(left[k][ty], right[k][tx], sum);
        __syncthreads();
    }
    if (i < n && j < n) gram[(long long)i * n + j] += sum;
}

extern "C" __global__ void gram_f64_tiled(const float* x, double* gram, int tokens, int n)
{
    gram_f64_tiled_of(x, gram, tokens, n);
}

extern "C" __global__ void gram_f64_tiled_bf16(const bf16_bits* x, double* gram, int tokens, int n)
{
    gram_f64_tiled_of(x, gram, tokens, n);
}

// gram[i, j] += partial[i, j] for j ≥ i: one call's float32 Gram sums (a bf16 GEMM's, exact products summed in float)
// added to the running double ones. blockIdx.y is the row; blocks wholly left of the diagonal return at once.
extern "C" __global__ void gram_add_upper_f32(const float* partial, double* gram, int n)
{
    int i = blockIdx.y, j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j < i || j >= n) return;
    long long at = (long long)i * n + j;
    gram[at] += (double)partial[at];
}
