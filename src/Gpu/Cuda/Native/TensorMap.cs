using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>
/// CUtensorMap: the 128 opaque bytes <see cref="Driver.cuTensorMapEncodeTiled"/> writes, passed to a kernel by value
/// (int8_tma_gemm.cu's TmaMap) so the Tensor Memory Accelerator knows a tensor's address, shape and box.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal struct TensorMap
{
    private Opaque _bytes;

    [InlineArray(16)]
    private struct Opaque
    {
        private ulong _first;
    }
}
