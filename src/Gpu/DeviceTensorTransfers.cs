namespace OrleansQuant.Gpu;

/// <summary>The two host↔device copies everything else is built from: a new tensor from host values, and back.</summary>
public static class DeviceTensorTransfers
{
    /// <summary>A new <c>[rows, columns]</c> tensor on <paramref name="device"/> holding <paramref name="values"/>.</summary>
    public static DeviceTensor UploadNew<T>(this IComputeDevice device, ReadOnlySpan<T> values, int rows, int columns) where T : unmanaged
    {
        // Every element is written by the upload, so nothing needs zeroing first.
        var tensor = device.AllocateScratch(TensorTypeExtensions.Of<T>(), rows, columns);
        try
        {
            device.Upload(values, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new <paramref name="type"/> tensor (Float32, or BFloat16 rounded on the host, as <c>tensor.to(torch.bfloat16)</c>)
    /// holding <paramref name="values"/>.
    /// </summary>
    public static DeviceTensor UploadFloats(this IComputeDevice device, ReadOnlySpan<float> values, int rows, int columns, TensorType type)
    {
        switch (type)
        {
            case TensorType.Float32:
                return device.UploadNew(values, rows, columns);
            case TensorType.BFloat16:
                var rounded = new BFloat16[values.Length];
                BFloat16.Narrow(values, rounded);
                return device.UploadNew<BFloat16>(rounded, rows, columns);
            default:
                throw new ArgumentException($"floats can be stored as Float32 or BFloat16, not {type}", nameof(type));
        }
    }

    /// <summary>A vector <c>[1, n]</c> (norm gains, biases, per-channel scales).</summary>
    public static DeviceTensor UploadVector<T>(this IComputeDevice device, ReadOnlySpan<T> values) where T : unmanaged =>
        device.UploadNew(values, 1, values.Length);

    /// <summary>A Float32 or BFloat16 tensor's elements as floats (bf16 widened exactly), row-major, on the host.</summary>
    public static float[] ToFloats(this DeviceTensor tensor)
    {
        var values = new float[tensor.Length];
        tensor.DownloadFloats(values);
        return values;
    }

    /// <summary><see cref="ToFloats"/> into a span of exactly the tensor's length.</summary>
    public static void DownloadFloats(this DeviceTensor tensor, Span<float> destination)
    {
        switch (tensor.Type)
        {
            case TensorType.Float32:
                tensor.Device.Download(tensor, destination);
                return;
            case TensorType.BFloat16:
                var bits = new BFloat16[tensor.Length];
                tensor.Device.Download<BFloat16>(tensor, bits);
                BFloat16.Widen(bits, destination);
                return;
            default:
                throw new ArgumentException($"{tensor} does not hold floats; expected Float32 or BFloat16", nameof(tensor));
        }
    }

    /// <summary>The tensor's elements, row-major, on the host.</summary>
    public static T[] ToArray<T>(this DeviceTensor tensor) where T : unmanaged
    {
        var values = new T[tensor.Length];
        tensor.Device.Download<T>(tensor, values);
        return values;
    }
}
