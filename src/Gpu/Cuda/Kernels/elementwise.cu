// Element-wise kernels, grid-stride over all elements. silu_mul and add_in_place work on activations of one type A,
// float or bf16 (the _bf16 twins: inputs widened exactly, each result rounded once as it is stored).
#include "bfloat16.cuh"

// SwiGLU's gate (Shazeer 2020): output = silu(gate) * up; output may alias gate or up (each element reads before it writes).
template <typename A>
__device__ __forceinline__ void silu_mul_of(const A* gate, const A* up, A* output, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        float g = load_act(gate, i);
        store_act(output, i, g / (1.0f + expf(-g)) * load_act(up, i));
    }
}

extern "C" __global__ void silu_mul(const float* gate, const float* up, float* output, long long count)
{
    silu_mul_of(gate, up, output, count);
}

extern "C" __global__ void silu_mul_bf16(const bf16_bits* gate, const bf16_bits* up, bf16_bits* output, long long count)
{
    silu_mul_of(gate, up, output, count);
}

template <typename A>
__device__ __forceinline__ void add_in_place_of(A* x, const A* y, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        store_act(x, i, load_act(x, i) + load_act(y, i));
}

extern "C" __global__ void add_in_place(float* x, const float* y, long long count)
{
    add_in_place_of(x, y, count);
}

extern "C" __global__ void add_in_place_bf16(bf16_bits* x, const bf16_bits* y, long long count)
{
    add_in_place_of(x, y, count);
}

// output[t, n] += bias[n], after a GEMM that has no bias of its own.
extern "C" __global__ void add_bias(float* output, const float* bias, int tokens, int outputs)
{
    long long count = (long long)tokens * outputs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        output[i] += bias[i % outputs];
}
