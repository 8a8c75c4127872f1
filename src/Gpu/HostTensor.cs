namespace OrleansQuant.Gpu;

/// <summary>
/// A copy of a device tensor kept in host memory for its device — page-locked on a GPU, so it goes back at full copy
/// bandwidth — for data a device keeps but rarely reads (a layer's full-precision weights, kept for re-quantization,
/// when device memory is short). Kernels never read it: <see cref="IComputeDevice.CopyToDevice"/> brings it back.
/// </summary>
public abstract class HostTensor(IComputeDevice device, TensorType type, int rows, int columns)
    : TensorStorage(device, type, rows, columns)
{
    public override string ToString() => $"{Type}[{Rows}, {Columns}] in host memory of {Device.Info}";
}
