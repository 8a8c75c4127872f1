// W8A8 epilogue (Xiao et al. 2023, SmoothQuant, section 3): output = int32 sum * token scale * channel scale (+ bias),
// multiplied in that order in float32 with no fused multiply-add, the contract's rounding.
extern "C" __global__ void dequantize_int8(const int* sums, const float* tokenScales, const float* weightScales,
    const float* bias, float* output, int tokens, int outputs)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        int t = (int)(i / outputs), n = (int)(i % outputs);
        float value = __fmul_rn(__fmul_rn(__int2float_rn(sums[i]), tokenScales[t]), weightScales[n]);
        output[i] = bias != nullptr ? __fadd_rn(value, bias[n]) : value;
    }
}
