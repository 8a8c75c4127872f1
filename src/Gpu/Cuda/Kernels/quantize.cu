// Dynamic symmetric per-token int8 quantization (vLLM scaled_int8_quant without a static scale). The steps are the
// contract's, in float32 and without fused multiply-adds or reciprocals, so codes and scales equal the CPU device's
// bit for bit: scale = max(absmax / 127, 1e-8); code = clamp(round-half-even(x / scale), -127, 127).
#include "common.cuh"

extern "C" __global__ void quantize_per_token(const float* x, signed char* codes, float* scales, int width)
{
    __shared__ float scratch[32];
    const float* row = x + (long long)blockIdx.x * width;
    signed char* target = codes + (long long)blockIdx.x * width;
    float absmax = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) absmax = fmaxf(absmax, fabsf(row[i]));
    absmax = block_max(absmax, scratch);
    float scale = fmaxf(__fdiv_rn(absmax, 127.0f), 1e-8f);
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int i = threadIdx.x; i < width; i += blockDim.x)
    {
        float code = fminf(fmaxf(rintf(__fdiv_rn(row[i], scale)), -127.0f), 127.0f);
        target[i] = (signed char)(int)code;
    }
}
