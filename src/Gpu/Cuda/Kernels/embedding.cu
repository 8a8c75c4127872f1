// Embedding gather: output[t] = table[ids[t]]. One block per token; ids were checked on the host.
extern "C" __global__ void embed_gather(const float* table, const int* ids, float* output, int width)
{
    const float* source = table + (long long)ids[blockIdx.x] * width;
    float* target = output + (long long)blockIdx.x * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = source[i];
}
