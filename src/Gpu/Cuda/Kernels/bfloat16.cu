// Element type conversions that involve bfloat16 (Float32 ↔ Float64 are float_to_double in statistics.cu and
// double_to_float in quantization.cu). Grid-stride over count elements; each equals the host's BFloat16 bit for bit.
#include "bfloat16.cuh"

extern "C" __global__ void float_to_bfloat16(const float* x, bf16_bits* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = float_to_bf16(x[i]);
}

extern "C" __global__ void bfloat16_to_float(const bf16_bits* x, float* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = bf16_to_float(x[i]);
}

extern "C" __global__ void bfloat16_to_double(const bf16_bits* x, double* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = bf16_to_double(x[i]);
}

extern "C" __global__ void double_to_bfloat16(const double* x, bf16_bits* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        y[i] = double_to_bf16(x[i]);
}
