namespace OrleansQuant.Gpu;

/// <summary>
/// A row-major matrix owned by one device. Everything the model holds on a device is one of these:
/// weights <c>[out, in]</c>, activations <c>[tokens, features]</c>, vectors <c>[1, n]</c>.
/// Only the owning device reads or writes its elements.
/// </summary>
public abstract class DeviceTensor(IComputeDevice device, TensorType type, int rows, int columns)
    : TensorStorage(device, type, rows, columns)
{
    public override string ToString() => $"{Type}[{Rows}, {Columns}] on {Device.Info}";
}
