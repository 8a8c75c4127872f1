using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// New tensors made on the device from existing ones, for the quantizers: the layer they build must own every tensor
/// it holds, since the full-precision layer it was built from stays alive (and is freed) on its own.
/// </summary>
internal static class DeviceCopies
{
    /// <summary>A <paramref name="type"/> (Float32 or BFloat16) tensor of the same shape holding <paramref name="source"/> (Float64) rounded to nearest.</summary>
    public static DeviceTensor Narrow(IComputeDevice device, DeviceTensor source, TensorType type = TensorType.Float32) => device.Converted(source, type);

    /// <summary>A Float64 tensor of the same shape holding <paramref name="source"/> (Float32 or BFloat16) exactly: where quantization maths starts.</summary>
    public static DeviceTensor Widen(IComputeDevice device, DeviceTensor source) => device.Converted(source, TensorType.Float64);

    /// <summary>A copy of <paramref name="source"/> (a bias, a norm gain, a hidden state) that the caller owns.</summary>
    public static DeviceTensor Copy(IComputeDevice device, DeviceTensor source)
    {
        var copy = device.Allocate(source.Type, source.Rows, source.Columns);
        try
        {
            device.CopyRows(source, 0, copy, 0, source.Rows);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }
}
