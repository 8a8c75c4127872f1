// The W8A8 layer's activation quantizations fused into the kernels that make their inputs: RMSNorm then per-token
// int8 (for q/k/v and gate/up), SwiGLU then per-token int8 (for down). One block per row. Each value is computed
// with exactly the operations of rms_norm / silu_mul, and each code with quantize_per_token's, so the result equals
// the unfused kernels' bit for bit (a max is exact in any order; the sum of squares is reduced as rms_norm reduces it
// when launched with the same block size). The float output is written only when a reader needs it (out != 0);
// the rounding pass then reads it back instead of recomputing, which also makes out == gate safe.
// The activations (x and normed; gate, up and output) are of one type A, float or bf16 (the _bf16 twins). With bf16
// the unfused calls would store the norm or SwiGLU output as bf16 and quantize that, so each value is rounded to A
// (round_act) before it counts towards the row's maximum or becomes a code, whether or not it is written out.
#include "common.cuh"
#include "bfloat16.cuh"

__device__ __forceinline__ signed char fused_code(float v, float scale)
{
    return (signed char)(int)fminf(fmaxf(rintf(__fdiv_rn(v, scale)), -127.0f), 127.0f);
}

template <typename A>
__device__ __forceinline__ void rms_norm_quantize_of(const A* x, const float* weight, A* normed, signed char* codes,
    float* scales, int width, float eps)
{
    __shared__ float scratch[32];
    allow_dependent_launch();
    const long long offset = (long long)blockIdx.x * width;
    const A* row = x + offset;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = load_act(row, i);
        sum += v * v;
    }

    sum = block_sum(sum, scratch);
    float inverse = 1.0f / sqrtf(sum / width + eps);
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = round_act(__fmul_rn(__fmul_rn(load_act(row, i), inverse), weight[i]), row);
        if (normed) store_act(normed, offset + i, v);
        absmax = fmaxf(absmax, fabsf(v));
    }

    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = normed ? load_act(normed, offset + i) : round_act(__fmul_rn(__fmul_rn(load_act(row, i), inverse), weight[i]), row);
        codes[offset + i] = fused_code(v, scale);
    }
}

extern "C" __global__ void rms_norm_quantize(const float* x, const float* weight, float* normed, signed char* codes, float* scales,
    int width, float eps)
{
    rms_norm_quantize_of(x, weight, normed, codes, scales, width, eps);
}

extern "C" __global__ void rms_norm_quantize_bf16(const bf16_bits* x, const float* weight, bf16_bits* normed, signed char* codes,
    float* scales, int width, float eps)
{
    rms_norm_quantize_of(x, weight, normed, codes, scales, width, eps);
}

template <typename A>
__device__ __forceinline__ void silu_mul_quantize_of(const A* gate, const A* up, A* output, signed char* codes, float* scales, int width)
{
    __shared__ float scratch[32];
    allow_dependent_launch();
    const long long offset = (long long)blockIdx.x * width;
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float g = load_act(gate, offset + i);
        float v = round_act(g / (1.0f + expf(-g)) * load_act(up, offset + i), gate);
        absmax = fmaxf(absmax, fabsf(v));
        // Written after its own inputs are read: output may be gate or up.
        if (output) store_act(output, offset + i, v);
    }

    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v;
        if (output) v = load_act(output, offset + i);
        else
        {
            float g = load_act(gate, offset + i);
            v = round_act(g / (1.0f + expf(-g)) * load_act(up, offset + i), gate);
        }

        codes[offset + i] = fused_code(v, scale);
    }
}

extern "C" __global__ void silu_mul_quantize(const float* gate, const float* up, float* output, signed char* codes, float* scales, int width)
{
    silu_mul_quantize_of(gate, up, output, codes, scales, width);
}

extern "C" __global__ void silu_mul_quantize_bf16(const bf16_bits* gate, const bf16_bits* up, bf16_bits* output, signed char* codes,
    float* scales, int width)
{
    silu_mul_quantize_of(gate, up, output, codes, scales, width);
}
