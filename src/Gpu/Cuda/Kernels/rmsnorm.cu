// RMSNorm (Zhang and Sennrich 2019): output = x / sqrt(mean(x^2) + eps) * weight. One block per row.
#include "common.cuh"

extern "C" __global__ void rms_norm(const float* x, const float* weight, float* output, int width, float eps)
{
    __shared__ float scratch[32];
    const float* row = x + (long long)blockIdx.x * width;
    float* target = output + (long long)blockIdx.x * width;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) sum += row[i] * row[i];
    sum = block_sum(sum, scratch);
    float inverse = 1.0f / sqrtf(sum / width + eps);
    // (x * inverse) * weight, the CPU device's order.
    for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = __fmul_rn(__fmul_rn(row[i], inverse), weight[i]);
}
