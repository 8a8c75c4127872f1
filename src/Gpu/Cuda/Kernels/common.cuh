// Shared by every kernel file (passed to NVRTC as the header "common.cuh"; no toolkit headers are needed).
// Block reductions for blocks of up to 1024 threads, a multiple of 32. `scratch` is 32 floats of shared memory;
// every thread of the block must call, and every thread gets the result.
#pragma once

// Programmatic dependent launch (Hopper): a kernel that makes an int8 GEMM's input (a per-token quantization) lets the
// GEMM, launched as its programmatic dependent, start now; the GEMM loads its weights and then waits for this grid to
// finish (griddepcontrol.wait) before it reads what this one writes. Without a programmatic dependent, or before
// compute capability 9.0, it does nothing.
__device__ __forceinline__ void allow_dependent_launch()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ float block_sum(float v, float* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    v = warp_sum(v);
    // All threads have read scratch before anyone may reuse it.
    __syncthreads();
    return v;
}

__device__ __forceinline__ float block_max(float v, float* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : __int_as_float(0xff800000);
    v = warp_max(v);
    __syncthreads();
    return v;
}
