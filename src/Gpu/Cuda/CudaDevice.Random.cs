namespace OrleansQuant.Gpu.Cuda;

// TEMPORARY placeholder for FillNormal, replaced by the implementation in this session's work.
public sealed unsafe partial class CudaDevice
{
    public void FillNormal(DeviceTensor x, ulong seed, float std) => throw new NotSupportedException("FillNormal is being written in this session");
}
