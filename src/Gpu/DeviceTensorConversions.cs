namespace OrleansQuant.Gpu;

/// <summary>Tensors made on a device from others of another element type.</summary>
public static class DeviceTensorConversions
{
    /// <summary>A new <paramref name="type"/> tensor of the same shape holding <paramref name="source"/> converted (<see cref="IComputeDevice.Convert"/>); the caller owns it.</summary>
    public static DeviceTensor Converted(this IComputeDevice device, DeviceTensor source, TensorType type)
    {
        // Convert writes every element, so the copy needs no zeroing first.
        var converted = device.AllocateScratch(type, source.Rows, source.Columns);
        try
        {
            device.Convert(source, converted);
            return converted;
        }
        catch
        {
            converted.Dispose();
            throw;
        }
    }
}
