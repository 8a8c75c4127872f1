using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// A W8A8 linear as vLLM serves compressed-tensors int8 checkpoints: int8 weights with one scale per output channel,
/// activations quantized per token on the fly, an exact int8×int8→int32 product, dequantized by token × channel scale.
/// </summary>
public sealed class Int8Linear : Linear
{
    public Int8Linear(DeviceTensor weight, DeviceTensor weightScales, DeviceTensor? bias)
    {
        if (weight.Type != TensorType.Int8 || weightScales.Rows != 1 || weightScales.Columns != weight.Rows)
        {
            throw new ArgumentException($"an int8 linear needs Int8 weights [out, in] and scales [1, out]; got {weight} and {weightScales}");
        }

        Weight = weight;
        WeightScales = weightScales;
        Bias = bias;
    }

    public DeviceTensor Weight { get; }

    public DeviceTensor WeightScales { get; }

    public DeviceTensor? Bias { get; }

    public override int InputFeatures => Weight.Columns;

    public override int OutputFeatures => Weight.Rows;

    public override long ByteLength => Weight.ByteLength + WeightScales.ByteLength + (Bias?.ByteLength ?? 0);

    public override void Forward(DeviceTensor input, DeviceTensor output)
    {
        var device = Weight.Device;
        using var quantized = device.AllocateScratch(TensorType.Int8, input.Rows, input.Columns);
        using var tokenScales = device.AllocateScratch(TensorType.Float32, input.Rows, 1);
        device.QuantizePerToken(input, quantized, tokenScales);
        device.MatMulInt8(quantized, tokenScales, Weight, WeightScales, Bias, output);
    }

    public override void Forward(LinearActivation input, DeviceTensor output, bool accumulate = false)
    {
        var (quantized, tokenScales) = input.Int8();
        Weight.Device.MatMulInt8(quantized, tokenScales, Weight, WeightScales, Bias, output, accumulate);
    }

    /// <summary>This linear as one output of a grouped <see cref="IComputeDevice.MatMulInt8(DeviceTensor, DeviceTensor, ReadOnlySpan{Int8Projection})"/>.</summary>
    public Int8Projection Projection(DeviceTensor output, bool accumulate = false) => new(Weight, WeightScales, Bias, output, accumulate);

    public override bool ReadsInt8 => true;

    public override void Dispose()
    {
        Weight.Dispose();
        WeightScales.Dispose();
        Bias?.Dispose();
    }
}
