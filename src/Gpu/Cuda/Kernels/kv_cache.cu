// vLLM's reshape_and_cache for a flat paged cache: row t of keys/values [T, width] goes to row slots[t] of the caches
// [blocks * blockSize, width]. A negative slot (padding) writes nothing. One block per row, float4 where aligned.
extern "C" __global__ void write_kv_cache(const float* keys, const float* values, const int* slots, float* keyCache,
    float* valueCache, int width)
{
    int slot = slots[blockIdx.x];
    if (slot < 0) return;
    const float* k = keys + (long long)blockIdx.x * width;
    const float* v = values + (long long)blockIdx.x * width;
    float* kc = keyCache + (long long)slot * width;
    float* vc = valueCache + (long long)slot * width;
    if ((width & 3) == 0)
    {
        for (int i = threadIdx.x; i < width / 4; i += blockDim.x)
        {
            ((float4*)kc)[i] = ((const float4*)k)[i];
            ((float4*)vc)[i] = ((const float4*)v)[i];
        }
    }
    else
    {
        for (int i = threadIdx.x; i < width; i += blockDim.x)
        {
            kc[i] = k[i];
            vc[i] = v[i];
        }
    }
}
