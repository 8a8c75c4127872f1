// Rotary position embedding (Su et al. 2021) in Hugging Face's rotate_half layout: element i of a head rotates with
// element i + headDim/2. Angles are position * inverse frequency in float32, as transformers computes them.
extern "C" __global__ void rope_rotate_half(float* x, const int* positions, const float* inverseFrequencies, int heads, int headDim)
{
    int half = headDim / 2;
    float position = (float)positions[blockIdx.x];
    float* row = x + (long long)blockIdx.x * heads * headDim;
    for (int k = threadIdx.x; k < heads * half; k += blockDim.x)
    {
        int h = k / half, i = k % half;
        float angle = __fmul_rn(position, inverseFrequencies[i]);
        float c = cosf(angle), s = sinf(angle);
        float* head = row + h * headDim;
        float first = head[i], second = head[i + half];
        head[i] = first * c - second * s;
        head[i + half] = second * c + first * s;
    }
}
