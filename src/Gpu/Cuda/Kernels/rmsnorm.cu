// RMSNorm (Zhang and Sennrich 2019): output = x / sqrt(mean(x^2) + eps) * weight. One block per row.
// x and output are activations of one type A, float (rms_norm) or bf16 (rms_norm_bf16: widened exactly, the result
// rounded once as it is stored); the gain and all arithmetic are fp32, so a bf16 output is the fp32 one rounded.
#include "common.cuh"
#include "bfloat16.cuh"

template <typename A>
__device__ __forceinline__ void rms_norm_of(const A* x, const float* weight, A* output, int width, float eps)
{
    __shared__ float scratch[32];
    const A* row = x + (long long)blockIdx.x * width;
    A* target = output + (long long)blockIdx.x * width;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float v = load_act(row, i);
        sum += v * v;
    }

    sum = block_sum(sum, scratch);
    float inverse = 1.0f / sqrtf(sum / width + eps);
    // (x * inverse) * weight, the CPU device's order.
    for (int i = threadIdx.x; i < width; i += blockDim.x)
        store_act(target, i, __fmul_rn(__fmul_rn(load_act(row, i), inverse), weight[i]));
}

extern "C" __global__ void rms_norm(const float* x, const float* weight, float* output, int width, float eps)
{
    rms_norm_of(x, weight, output, width, eps);
}

extern "C" __global__ void rms_norm_bf16(const bf16_bits* x, const float* weight, bf16_bits* output, int width, float eps)
{
    rms_norm_of(x, weight, output, width, eps);
}
