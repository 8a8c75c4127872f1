namespace OrleansQuant.Gpu.Cuda;

/// <summary>A CUDA, NVRTC or cuBLASLt call that failed; the message names the call and the library's status name.</summary>
public sealed class CudaException : Exception
{
    public CudaException(string call, string status, string? detail = null)
        : base(detail is null ? $"{call} failed: {status}" : $"{call} failed: {status}\n{detail}")
    {
        Call = call;
        Status = status;
    }

    /// <summary>The native function that failed, e.g. <c>cuLaunchKernel</c>.</summary>
    public string Call { get; }

    /// <summary>The status as the library names it, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string Status { get; }
}
