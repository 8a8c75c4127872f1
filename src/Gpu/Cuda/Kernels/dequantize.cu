// W8A8 epilogue (Xiao et al. 2023, SmoothQuant, section 3): output = int32 sum * token scale * channel scale (+ bias),
// multiplied in that order in float32 with no fused multiply-add, the contract's rounding; with `accumulate` the value
// is added to the output (the residual add) instead of replacing it.
extern "C" __global__ void dequantize_int8(const int* sums, const float* tokenScales, const float* weightScales,
    const float* bias, float* output, int tokens, int outputs, int accumulate)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        int t = (int)(i / outputs), n = (int)(i % outputs);
        float value = __fmul_rn(__fmul_rn(__int2float_rn(sums[i]), tokenScales[t]), weightScales[n]);
        if (bias != nullptr) value = __fadd_rn(value, bias[n]);
        output[i] = accumulate ? __fadd_rn(output[i], value) : value;
    }
}

// The same, four outputs per thread for N a multiple of 4 (every pointer 16-byte aligned): int4/float4 loads and a
// float4 store, one row (token) per blockIdx.x and blockDim.x × 4 columns per blockIdx.y. Same operations per element.
extern "C" __global__ void dequantize_int8_v4(const int4* __restrict__ sums, const float* __restrict__ tokenScales,
    const float4* __restrict__ weightScales, const float4* __restrict__ bias, float4* __restrict__ output, int outputs4, int accumulate)
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
        float4 old = output[i];
        y.x = __fadd_rn(old.x, y.x);
        y.y = __fadd_rn(old.y, y.y);
        y.z = __fadd_rn(old.z, y.z);
        y.w = __fadd_rn(old.w, y.w);
    }

    output[i] = y;
}
