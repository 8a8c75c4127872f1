// Quantization as device work: SmoothQuant's column scaling, GPTQ's Hessian preparation, per-channel int8 scales,
// round-to-nearest and GPTQ's inner loop (Frantar et al. 2023, Algorithm 1). Everything GPTQ touches is double.
// Products and quotients that the contract spells out are written with __dmul_rn/__dsub_rn/__ddiv_rn, so no
// multiply-add is fused and results equal a host's plain IEEE double arithmetic bit for bit.

// y = (float)x, round to nearest even (Float32 → Float64 is float_to_double in statistics.cu; bfloat16 conversions are
// in bfloat16.cu).
extern "C" __global__ void double_to_float(const double* x, float* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = __double2float_rn(x[i]);
}

// x[r, c] *= scales[c].
extern "C" __global__ void scale_columns_f32(float* x, const float* scales, long long count, int columns)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        x[i] = __fmul_rn(x[i], scales[i % columns]);
}

extern "C" __global__ void scale_columns_f64(double* x, const double* scales, long long count, int columns)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        x[i] = __dmul_rn(x[i], scales[i % columns]);
}

// output[i, j] = factor · gram[min(i,j), max(i,j)] · r[i] · r[j] (left to right), r = inverseScales or 1 when null.
// A 32 × 32 output tile per block (32 × 8 threads): the tile of gram at or above the diagonal that holds its values is
// read coalesced into shared memory, and a tile below the diagonal reads it transposed from there.
extern "C" __global__ void symmetric_from_upper(const double* gram, double factor, const double* r, double* output, int n)
{
    __shared__ double tile[32][33];
    int bx = blockIdx.x, by = blockIdx.y;
    int tileRow = (by < bx ? by : bx) * 32, tileColumn = (by < bx ? bx : by) * 32;
    for (int y = threadIdx.y; y < 32; y += 8)
    {
        int gi = tileRow + y, gj = tileColumn + threadIdx.x;
        tile[y][threadIdx.x] = gi < n && gj < n ? gram[(long long)gi * n + gj] : 0.0;
    }
    __syncthreads();
    for (int y = threadIdx.y; y < 32; y += 8)
    {
        int i = by * 32 + y, j = bx * 32 + threadIdx.x;
        if (i >= n || j >= n) continue;
        double g = i <= j ? tile[y][threadIdx.x] : tile[threadIdx.x][y];
        double v = __dmul_rn(factor, g);
        if (r != nullptr) v = __dmul_rn(__dmul_rn(v, r[i]), r[j]);
        output[(long long)i * n + j] = v;
    }
}

extern "C" __global__ void diagonal_f64(const double* square, double* diagonal, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        diagonal[i] = square[(long long)i * n + i];
}

extern "C" __global__ void add_to_diagonal_f64(double* square, const double* addend, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        square[(long long)i * n + i] = __dadd_rn(square[(long long)i * n + i], addend[i]);
}

// output[r, c] = x[r, order[c]] for elements of 1, 4 or 8 bytes; blockIdx.y is the row (in strides of gridDim.y).
// An index outside [0, columns) (order is not a permutation, against the contract) reads as zero instead of faulting.
template <typename T>
__device__ __forceinline__ void permute_columns(const T* x, const int* order, T* output, int rows, int columns)
{
    for (int r = blockIdx.y; r < rows; r += gridDim.y)
    {
        const T* source = x + (long long)r * columns;
        T* target = output + (long long)r * columns;
        for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < columns; c += gridDim.x * blockDim.x)
        {
            int from = order[c];
            target[c] = (unsigned)from < (unsigned)columns ? source[from] : (T)0;
        }
    }
}

extern "C" __global__ void permute_columns_1(const signed char* x, const int* order, signed char* output, int rows, int columns)
{
    permute_columns(x, order, output, rows, columns);
}

extern "C" __global__ void permute_columns_4(const int* x, const int* order, int* output, int rows, int columns)
{
    permute_columns(x, order, output, rows, columns);
}

extern "C" __global__ void permute_columns_8(const long long* x, const int* order, long long* output, int rows, int columns)
{
    permute_columns(x, order, output, rows, columns);
}

// output[i, j] = square[order[i], order[j]].
extern "C" __global__ void permute_symmetric(const double* square, const int* order, double* output, int n)
{
    for (int i = blockIdx.y; i < n; i += gridDim.y)
    {
        int oi = order[i];
        double* target = output + (long long)i * n;
        if ((unsigned)oi >= (unsigned)n)
        {
            for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) target[j] = 0.0;
            continue;
        }
        const double* source = square + (long long)oi * n;
        for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x)
        {
            int oj = order[j];
            target[j] = (unsigned)oj < (unsigned)n ? source[oj] : 0.0;
        }
    }
}

// x[i] <-> x[count - 1 - i]: the whole array reversed in place. On an n × n square that is J·A·J (J the reversal
// permutation), which CholeskyInverseUpper uses to turn cuSOLVER's factorizations into the one it needs.
extern "C" __global__ void reverse_f64(double* x, long long count)
{
    long long half = count / 2;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < half; i += (long long)gridDim.x * blockDim.x)
    {
        double a = x[i], b = x[count - 1 - i];
        x[i] = b;
        x[count - 1 - i] = a;
    }
}

__device__ __forceinline__ double q_warp_max(double v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ double q_warp_sum(double v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// scales[r] = max(max|w[r, :]| / 127, 1e-8): one block per row (strided), a max in any order is exact.
extern "C" __global__ void channel_scales(const double* weights, double* scales, int rows, int columns)
{
    __shared__ double partial[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const double* row = weights + (long long)r * columns;
        double m = 0.0;
        for (int c = threadIdx.x; c < columns; c += blockDim.x) m = fmax(m, fabs(row[c]));
        m = q_warp_max(m);
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
        if (lane == 0) partial[warp] = m;
        __syncthreads();
        if (warp == 0)
        {
            m = lane < warps ? partial[lane] : 0.0;
            m = q_warp_max(m);
            if (lane == 0) scales[r] = fmax(__ddiv_rn(m, 127.0), 1e-8);
        }
        __syncthreads();
    }
}

__device__ __forceinline__ double round_code(double w, double scale)
{
    return fmin(fmax(rint(__ddiv_rn(w, scale)), -127.0), 127.0);
}

// quantized[r, c] = clamp(rint(w[r, c] / scales[r]), -127, 127).
extern "C" __global__ void quantize_rows(const double* weights, const double* scales, signed char* quantized, long long count, int columns)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        quantized[i] = (signed char)(int)round_code(weights[i], scales[i / columns]);
}

// GPTQ's inner loop over columns [start, start + width) of a block, one warp per row (rows strided over the grid).
// The row's block values live in shared memory (width doubles per warp). With `staged`, the block's triangle of
// `upper` (row i holds columns i..width-1, packed) is copied to shared memory once per thread block; otherwise it is
// read from global memory (wide blocks). Per column i: every lane reads w_i and computes q and e (the same values),
// then lanes update the block's columns j > i, 32 at a time; lane 0 keeps e where w_i was, for the coalesced write
// of the errors at the end.
extern "C" __global__ void gptq_quantize_block(double* weights, const double* scales, const double* upper,
    signed char* quantized, double* errors, int rows, int n, int start, int width, int staged)
{
    extern __shared__ double shared[];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    long long triangle = staged ? (long long)width * (width + 1) / 2 : 0;
    double* values = shared + triangle + (long long)warp * width;
    const double* block = upper + (long long)start * n + start;
    if (staged)
    {
        for (int i = warp; i < width; i += warps)
        {
            long long offset = (long long)i * width - (long long)i * (i - 1) / 2 - i;
            for (int j = i + lane; j < width; j += 32) shared[offset + j] = block[(long long)i * n + j];
        }
        __syncthreads();
    }

    for (int r = blockIdx.x * warps + warp; r < rows; r += gridDim.x * warps)
    {
        double* row = weights + (long long)r * n + start;
        double scale = scales[r];
        for (int j = lane; j < width; j += 32) values[j] = row[j];
        __syncwarp();
        for (int i = 0; i < width; i++)
        {
            double w = values[i];
            const double* u = staged ? shared + ((long long)i * width - (long long)i * (i - 1) / 2 - i) : block + (long long)i * n;
            double q = round_code(w, scale);
            double e = __ddiv_rn(__dsub_rn(w, __dmul_rn(q, scale)), u[i]);
            for (int j = i + 1 + lane; j < width; j += 32) values[j] = __dsub_rn(values[j], __dmul_rn(e, u[j]));
            // Every lane has read values[i] before lane 0 replaces it.
            __syncwarp();
            if (lane == 0)
            {
                values[i] = e;
                row[i] = w;
                quantized[(long long)r * n + start + i] = (signed char)(int)q;
            }
            __syncwarp();
        }
        // weights[r, start + i] holds w_i as column i was quantized (the updates of the columns before it), and
        // values[i] its error.
        double* rowErrors = errors + (long long)r * width;
        for (int j = lane; j < width; j += 32) rowErrors[j] = values[j];
        __syncwarp();
    }
}

// delta[r, c] = weights[r, c] − quantized[r, c] · scales[r] (QuadraticError's Δ, rows [0, count / columns)).
extern "C" __global__ void quantization_delta(const double* weights, const signed char* quantized, const double* scales,
    double* delta, long long count, int columns)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        delta[i] = __dsub_rn(weights[i], __dmul_rn((double)quantized[i], scales[i / columns]));
}

// result += Σ a[i]·b[i]: a block's partial sum, then one atomic add (result zeroed by the caller beforehand).
extern "C" __global__ void dot_accumulate(const double* a, const double* b, double* result, long long count)
{
    __shared__ double partial[32];
    double s = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        s = fma(a[i], b[i], s);
    s = q_warp_sum(s);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) partial[warp] = s;
    __syncthreads();
    if (warp == 0)
    {
        s = lane < warps ? partial[lane] : 0.0;
        s = q_warp_sum(s);
        if (lane == 0) atomicAdd(result, s);
    }
}

// D[m × cols] = alpha · op(A) · op(B) + beta · C, column-major with leading dimensions (D may be C), where cuBLASLt
// offers no fp64 algorithm: 16 × 16 tiles, 16 of k at a time through shared memory. transA/transB: 0 = N, 1 = T.
extern "C" __global__ void gemm_f64_fallback(const double* a, int lda, int transA, const double* b, int ldb, int transB,
    double* c, int ldc, int m, int cols, int k, double alpha, double beta)
{
    __shared__ double tileA[16][17];
    __shared__ double tileB[16][17];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * 16 + tx, column = blockIdx.x * 16 + ty;
    double sum = 0.0;
    for (int k0 = 0; k0 < k; k0 += 16)
    {
        // tileA[kk][ii] = op(A)[blockRow + ii, k0 + kk]; tileB[kk][jj] = op(B)[k0 + kk, blockColumn + jj].
        int ar = blockIdx.y * 16 + tx, ak = k0 + ty;
        tileA[ty][tx] = ar < m && ak < k ? (transA ? a[(long long)ar * lda + ak] : a[(long long)ak * lda + ar]) : 0.0;
        int bk = k0 + tx, bc = blockIdx.x * 16 + ty;
        tileB[tx][ty] = bk < k && bc < cols ? (transB ? b[(long long)bk * ldb + bc] : b[(long long)bc * ldb + bk]) : 0.0;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < 16; kk++) sum = fma(tileA[kk][tx], tileB[kk][ty], sum);
        __syncthreads();
    }
    if (row < m && column < cols)
    {
        double* target = c + (long long)column * ldc + row;
        *target = beta == 0.0 ? alpha * sum : alpha * sum + beta * *target;
    }
}
