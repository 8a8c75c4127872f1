namespace OrleansQuant.Gpu.Cpu;

/// <summary>A CPU device's host copy: the device's memory is host memory, so it is a managed copy of the elements.</summary>
internal sealed class CpuHostTensor(CpuDevice device, TensorType type, int rows, int columns, System.Array elements)
    : HostTensor(device, type, rows, columns)
{
    private System.Array? _elements = elements;

    public System.Array Elements => _elements ?? throw new ObjectDisposedException(ToString());

    protected override void Release() => _elements = null;
}
