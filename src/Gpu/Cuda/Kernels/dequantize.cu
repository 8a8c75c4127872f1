// W8A8 epilogue (Xiao et al. 2023, SmoothQuant, section 3): output = int32 sum * token scale * channel scale (+ bias),
// multiplied in that order in float32 with no fused multiply-add, the contract's rounding; with `accumulate` the value
// is added to the output (the residual add) instead of replacing it. The output is float or bf16 (the twins ending
// "_bf16"): a bf16 output receives the float result rounded once, and accumulating into one adds the float result to
// the widened old value in float32 and rounds the sum once.
#include "act_vector.cuh"

template <typename Out>
__device__ __forceinline__ void dequantize(const int* sums, const float* tokenScales, const float* weightScales,
    const float* bias, Out* output, int tokens, int outputs, int accumulate)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        int t = (int)(i / outputs), n = (int)(i % outputs);
        float value = __fmul_rn(__fmul_rn(__int2float_rn(sums[i]), tokenScales[t]), weightScales[n]);
        if (bias != nullptr) value = __fadd_rn(value, bias[n]);
        store_act(output, i, accumulate ? __fadd_rn(load_act(output, i), value) : value);
    }
}

extern "C" __global__ void dequantize_int8(const int* sums, const float* tokenScales, const float* weightScales,
    const float* bias, float* output, int tokens, int outputs, int accumulate)
{
    dequantize(sums, tokenScales, weightScales, bias, output, tokens, outputs, accumulate);
}

extern "C" __global__ void dequantize_int8_bf16(const int* sums, const float* tokenScales, const float* weightScales,
    const float* bias, bf16_bits* output, int tokens, int outputs, int accumulate)
{
    dequantize(sums, tokenScales, weightScales, bias, output, tokens, outputs, accumulate);
}

// The same, four outputs per thread for N a multiple of 4 (sums, scales and bias 16-byte aligned; the output 16-byte
// for float, 8-byte for bf16): int4/float4 loads and a store of 4 outputs (a float4, or 4 bf16 packed in 8 bytes), one
// row (token) per blockIdx.x and blockDim.x × 4 columns per blockIdx.y. Same operations per element.
template <typename Out>
__device__ __forceinline__ void dequantize_v4(const int4* __restrict__ sums, const float* __restrict__ tokenScales,
    const float4* __restrict__ weightScales, const float4* __restrict__ bias, Out* __restrict__ output, int outputs4, int accumulate)
{
    int n = blockIdx.y * blockDim.x + threadIdx.x;
    if (n >= outputs4) return;
    long long i = (long long)blockIdx.x * outputs4 + n;
    int4 s = sums[i];
    float t = tokenScales[blockIdx.x];
    float4 w = weightScales[n];
    float4 y;
    y.x = __fmul_rn(__fmul_rn(__int2float_rn(s.x), t), w.x);
    y.y = __fmul_rn(__fmul_rn(__int2float_rn(s.y), t), w.y);
    y.z = __fmul_rn(__fmul_rn(__int2float_rn(s.z), t), w.z);
    y.w = __fmul_rn(__fmul_rn(__int2float_rn(s.w), t), w.w);
    if (bias != nullptr)
    {
        float4 b = bias[n];
        y.x = __fadd_rn(y.x, b.x);
        y.y = __fadd_rn(y.y, b.y);
        y.z = __fadd_rn(y.z, b.z);
        y.w = __fadd_rn(y.w, b.w);
    }

    if (accumulate)
    {
        float4 old = load_act4(output, i);
        y.x = __fadd_rn(old.x, y.x);
        y.y = __fadd_rn(old.y, y.y);
        y.z = __fadd_rn(old.z, y.z);
        y.w = __fadd_rn(old.w, y.w);
    }

    store_act4(output, i, y);
}

extern "C" __global__ void dequantize_int8_v4(const int4* __restrict__ sums, const float* __restrict__ tokenScales,
    const float4* __restrict__ weightScales, const float4* __restrict__ bias, float* __restrict__ output, int outputs4, int accumulate)
{
    dequantize_v4(sums, tokenScales, weightScales, bias, output, outputs4, accumulate);
}

extern "C" __global__ void dequantize_int8_v4_bf16(const int4* __restrict__ sums, const float* __restrict__ tokenScales,
    const float4* __restrict__ weightScales, const float4* __restrict__ bias, bf16_bits* __restrict__ output, int outputs4, int accumulate)
{
    dequantize_v4(sums, tokenScales, weightScales, bias, output, outputs4, accumulate);
}
