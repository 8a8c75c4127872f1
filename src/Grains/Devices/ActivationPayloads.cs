using System.Runtime.InteropServices;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// Activations to and from the wire form between grains (<see cref="ActivationPayload"/>): sent in the type the sender's
/// device holds them (bf16 stays bf16, half the bytes), taken in the type the receiver's layer wants. A cluster may mix
/// float32 CPU layers with bf16 GPU ones; a bf16 → float32 hop is exact, a float32 → bf16 hop rounds as the bf16 layer's
/// own output would.
/// </summary>
public static class ActivationPayloads
{
    /// <summary>The values of <paramref name="tensor"/> (Float32 or BFloat16), downloaded in its own type.</summary>
    public static ActivationPayload Of(DeviceTensor tensor) => tensor.Type switch
    {
        TensorType.Float32 => new ActivationPayload(tensor.Rows, tensor.Columns, tensor.ToArray<float>(), null),
        TensorType.BFloat16 => new ActivationPayload(tensor.Rows, tensor.Columns, null, null,
            MemoryMarshal.Cast<BFloat16, ushort>(tensor.ToArray<BFloat16>()).ToArray()),
        _ => throw new ArgumentException($"activations are Float32 or BFloat16, not {tensor}", nameof(tensor)),
    };

    /// <summary>A new <paramref name="type"/> tensor on <paramref name="device"/> holding the payload's values.</summary>
    public static DeviceTensor Upload(IComputeDevice device, ActivationPayload payload, TensorType type)
    {
        if (payload.BFloat16Bits is { } bits)
        {
            Require(bits.Length, payload);
            var values = MemoryMarshal.Cast<ushort, BFloat16>(bits);
            if (type == TensorType.BFloat16)
            {
                return device.UploadNew<BFloat16>(values, payload.Rows, payload.Columns);
            }

            var widened = new float[values.Length];
            BFloat16.Widen(values, widened);
            return device.UploadFloats(widened, payload.Rows, payload.Columns, type);
        }

        var floats = payload.Values ?? throw new ArgumentException("activation payload has neither values nor a handle");
        Require(floats.Length, payload);
        return device.UploadFloats(floats, payload.Rows, payload.Columns, type);
    }

    /// <summary><paramref name="tensor"/> itself when it is of <paramref name="type"/>; else a converted copy, and the tensor is disposed.</summary>
    public static DeviceTensor As(IComputeDevice device, DeviceTensor tensor, TensorType type)
    {
        if (tensor.Type == type)
        {
            return tensor;
        }

        using (tensor)
        {
            return device.Converted(tensor, type);
        }
    }

    private static void Require(int length, ActivationPayload payload)
    {
        if (length != (long)payload.Rows * payload.Columns)
        {
            throw new ArgumentException($"activation payload [{payload.Rows}, {payload.Columns}] carries {length} values");
        }
    }
}
