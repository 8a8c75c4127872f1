// Embedding gather: output[t] = table[ids[t]], ids an Int32 device tensor. One block per token. An id outside the
// vocabulary cannot be reported without a host round trip, so its row becomes NaN instead of reading stray memory.
extern "C" __global__ void embed_gather(const float* table, const int* ids, float* output, int width, int vocabulary)
{
    int id = ids[blockIdx.x];
    float* target = output + (long long)blockIdx.x * width;
    if ((unsigned)id >= (unsigned)vocabulary)
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = __int_as_float(0x7fc00000);
        return;
    }

    const float* source = table + (long long)id * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) target[i] = source[i];
}
