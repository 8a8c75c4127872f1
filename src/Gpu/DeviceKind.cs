namespace OrleansQuant.Gpu;

/// <summary>What executes a device's kernels.</summary>
public enum DeviceKind
{
    /// <summary>Host cores through System.Numerics.Tensors and SIMD intrinsics; also the CI stand-in for a GPU.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through the CUDA driver API.</summary>
    Cuda,
}
