// The W8A8 layer's activation quantizations fused into the kernels that make their inputs: RMSNorm then per-token
// int8 (for q/k/v and gate/up), SwiGLU then per-token int8 (for down). One block per row. Each value is computed
// with exactly the operations of rms_norm / silu_mul, and each code with quantize_per_token's, so the result equals
// the unfused kernels' bit for bit (a max is exact in any order; the sum of squares is reduced as rms_norm reduces it
// when launched with the same block size). The float output is written only when a reader needs it (out != 0);
// the rounding pass then reads it back instead of recomputing, which also makes out == gate safe.
#include "common.cuh"

__device__ __forceinline__ signed char fused_code(float v, float scale)
{
    return (signed char)(int)fminf(fmaxf(rintf(__fdiv_rn(v, scale)), -127.0f), 127.0f);
}

extern "C" __global__ void rms_norm_quantize(const float* x, const float* weight, float* normed, signed char* codes, float* scales,
    int width, float eps)
{
    __shared__ float scratch[32];
    const long long offset = (long long)blockIdx.x * width;
    const float* row = x + offset;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) sum += row[i] * row[i];
    sum = block_sum(sum, scratch);
    float inverse = 1.0f / sqrtf(sum / width + eps);
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = __fmul_rn(__fmul_rn(row[i], inverse), weight[i]);
        if (normed) normed[offset + i] = v;
        absmax = fmaxf(absmax, fabsf(v));
    }
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = normed ? normed[offset + i] : __fmul_rn(__fmul_rn(row[i], inverse), weight[i]);
        codes[offset + i] = fused_code(v, scale);
    }
}

extern "C" __global__ void silu_mul_quantize(const float* gate, const float* up, float* output, signed char* codes, float* scales, int width)
{
    __shared__ float scratch[32];
    const long long offset = (long long)blockIdx.x * width;
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float g = gate[offset + i];
        float v = g / (1.0f + expf(-g)) * up[offset + i];
        absmax = fmaxf(absmax, fabsf(v));
        // Written after its own inputs are read: output may be gate or up.
        if (output) output[offset + i] = v;
    }
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v;
        if (output) v = output[offset + i];
        else
        {
            float g = gate[offset + i];
            v = g / (1.0f + expf(-g)) * up[offset + i];
        }
        codes[offset + i] = fused_code(v, scale);
    }
}
