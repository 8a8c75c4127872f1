// Rotary position embedding (Su et al. 2021) in Hugging Face's rotate_half layout: element i of a head rotates with
// element i + headDim/2. Angles are position * inverse frequency in float32, as transformers computes them.
// x is an activation, float (rope_rotate_half) or bf16 (rope_rotate_half_bf16: each pair widened exactly, rotated in
// fp32, and each result rounded once as it is stored back).
#include "bfloat16.cuh"

template <typename A>
__device__ __forceinline__ void rope_rotate_half_of(A* x, const int* positions, const float* inverseFrequencies, int heads, int headDim)
{
    int half = headDim / 2;
    float position = (float)positions[blockIdx.x];
    A* row = x + (long long)blockIdx.x * heads * headDim;
    for (int k = threadIdx.x; k < heads * half; k += blockDim.x)
    {
        int h = k / half, i = k % half;
        float angle = __fmul_rn(position, inverseFrequencies[i]);
        float c = cosf(angle), s = sinf(angle);
        A* head = row + h * headDim;
        float first = load_act(head, i), second = load_act(head, i + half);
        store_act(head, i, first * c - second * s);
        store_act(head, i + half, second * c + first * s);
    }
}

extern "C" __global__ void rope_rotate_half(float* x, const int* positions, const float* inverseFrequencies, int heads, int headDim)
{
    rope_rotate_half_of(x, positions, inverseFrequencies, heads, headDim);
}

extern "C" __global__ void rope_rotate_half_bf16(bf16_bits* x, const int* positions, const float* inverseFrequencies, int heads, int headDim)
{
    rope_rotate_half_of(x, positions, inverseFrequencies, heads, headDim);
}
