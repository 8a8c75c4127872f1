using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// A linear's weights as int8 with one symmetric scale per output channel, on the device that made them:
/// W ≈ Values[o, i] · Scales[o]. <see cref="Values"/> Int8 <c>[rows, columns]</c>, <see cref="Scales"/> Float32
/// <c>[1, rows]</c>: what an <c>Int8Linear</c> serves and a compressed-tensors checkpoint stores. Disposing frees both,
/// unless they were handed on to a linear that now owns them.
/// </summary>
public sealed record QuantizedTensors(DeviceTensor Values, DeviceTensor Scales) : IDisposable
{
    public void Dispose()
    {
        Values.Dispose();
        Scales.Dispose();
    }
}
