// GEMMs for when cuBLASLt is missing or refuses a shape: y[t, n] = sum_k x[t, k] * w[n, k] (weights [out, in]).
// 16 x 16 output tiles, the inner dimension staged through shared memory. Correct first; cuBLASLt is the fast path.
// A bf16 weight multiplies bf16 x (a float x is rounded to bf16 into the caller's scratch copy first): exact products,
// float sums; the float sum is stored as it is, or rounded once to bf16 (gemm_bf16_nt_bf16).
#include "bfloat16.cuh"

#define TILE 16

extern "C" __global__ void gemm_int8_nt(const signed char* x, const signed char* w, int* y, int tokens, int outputs, int inner)
{
    __shared__ int xs[TILE][TILE + 1];
    __shared__ int ws[TILE][TILE + 1];
    int t = blockIdx.y * TILE + threadIdx.y, n = blockIdx.x * TILE + threadIdx.x;
    int wRow = blockIdx.x * TILE + threadIdx.y;
    int sum = 0;
    for (int k0 = 0; k0 < inner; k0 += TILE)
    {
        int k = k0 + threadIdx.x;
        xs[threadIdx.y][threadIdx.x] = t < tokens && k < inner ? x[(long long)t * inner + k] : 0;
        ws[threadIdx.y][threadIdx.x] = wRow < outputs && k < inner ? w[(long long)wRow * inner + k] : 0;
        __syncthreads();
        for (int kk = 0; kk < TILE; kk++) sum += xs[threadIdx.y][kk] * ws[threadIdx.x][kk];
        __syncthreads();
    }

    if (t < tokens && n < outputs) y[(long long)t * outputs + n] = sum;
}

__device__ __forceinline__ float gemm_value(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float gemm_value(const bf16_bits* p, long long i) { return bf16_to_float(p[i]); }

template <typename T, typename Out>
__device__ __forceinline__ void gemm_float_nt(const T* x, const T* w, Out* y, int tokens, int outputs, int inner)
{
    __shared__ float xs[TILE][TILE + 1];
    __shared__ float ws[TILE][TILE + 1];
    int t = blockIdx.y * TILE + threadIdx.y, n = blockIdx.x * TILE + threadIdx.x;
    int wRow = blockIdx.x * TILE + threadIdx.y;
    float sum = 0.0f;
    for (int k0 = 0; k0 < inner; k0 += TILE)
    {
        int k = k0 + threadIdx.x;
        xs[threadIdx.y][threadIdx.x] = t < tokens && k < inner ? gemm_value(x, (long long)t * inner + k) : 0.0f;
        ws[threadIdx.y][threadIdx.x] = wRow < outputs && k < inner ? gemm_value(w, (long long)wRow * inner + k) : 0.0f;
        __syncthreads();
        for (int kk = 0; kk < TILE; kk++) sum += xs[threadIdx.y][kk] * ws[threadIdx.x][kk];
        __syncthreads();
    }

    if (t < tokens && n < outputs) store_act(y, (long long)t * outputs + n, sum);
}

extern "C" __global__ void gemm_f32_nt(const float* x, const float* w, float* y, int tokens, int outputs, int inner)
{
    gemm_float_nt(x, w, y, tokens, outputs, inner);
}

extern "C" __global__ void gemm_bf16_nt(const bf16_bits* x, const bf16_bits* w, float* y, int tokens, int outputs, int inner)
{
    gemm_float_nt(x, w, y, tokens, outputs, inner);
}

extern "C" __global__ void gemm_bf16_nt_bf16(const bf16_bits* x, const bf16_bits* w, bf16_bits* y, int tokens, int outputs, int inner)
{
    gemm_float_nt(x, w, y, tokens, outputs, inner);
}

// A bf16 output that needs more than the GEMM: output[t, n] = bf16(sums[t, n] + bias[n]), the float32 sum of the fp32
// GEMM result and the bias (add_bias's addition) rounded once; bias may be null. For a Float32 weight (cuBLASLt has
// no fp32 x fp32 -> bf16 GEMM) or a bias (added before the one rounding).
extern "C" __global__ void bias_to_bf16(const float* sums, const float* bias, bf16_bits* output, int tokens, int outputs)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        output[i] = float_to_bf16(bias != nullptr ? sums[i] + bias[i % outputs] : sums[i]);
}
