// Element-wise kernels, grid-stride over all elements.

// SwiGLU's gate (Shazeer 2020): output = silu(gate) * up; output may alias gate or up (each element reads before it writes).
extern "C" __global__ void silu_mul(const float* gate, const float* up, float* output, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        float g = gate[i];
        output[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

extern "C" __global__ void add_in_place(float* x, const float* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        x[i] += y[i];
}

// output[t, n] += bias[n], after a GEMM that has no bias of its own.
extern "C" __global__ void add_bias(float* output, const float* bias, int tokens, int outputs)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        output[i] += bias[i % outputs];
}
