using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Round-to-nearest int8 per output channel: the baseline GPTQ is measured against (Frantar et al. 2023, §5 "RTN").
/// Each weight is rounded on its own, ignoring the inputs.
/// </summary>
public static class RoundToNearest
{
    /// <param name="weights">W Float64 <c>[rows, columns]</c> on <paramref name="device"/>; not modified.</param>
    public static QuantizedTensors Quantize(IComputeDevice device, DeviceTensor weights)
    {
        if (weights.Type != TensorType.Float64)
        {
            throw new ArgumentException($"round-to-nearest quantizes Float64 weights [rows, columns]; got {weights}", nameof(weights));
        }

        using var scales = device.Allocate(TensorType.Float64, 1, weights.Rows);
        device.ChannelScales(weights, scales);
        var values = device.Allocate(TensorType.Int8, weights.Rows, weights.Columns);
        try
        {
            device.QuantizeRows(weights, scales, values);
            return new QuantizedTensors(values, DeviceCopies.Narrow(device, scales));
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }
}
