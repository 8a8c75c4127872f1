using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>A full-precision linear: Float32 or BFloat16 weights <c>[out, in]</c> on the device.</summary>
public sealed class FloatLinear : Linear
{
    public FloatLinear(DeviceTensor weight, DeviceTensor? bias)
    {
        Weight = weight;
        Bias = bias;
    }

    public DeviceTensor Weight { get; }

    public DeviceTensor? Bias { get; }

    public override int InputFeatures => Weight.Columns;

    public override int OutputFeatures => Weight.Rows;

    public override long ByteLength => Weight.ByteLength + (Bias?.ByteLength ?? 0);

    public override void Forward(DeviceTensor input, DeviceTensor output) =>
        Weight.Device.MatMul(input, Weight, Bias, output);

    public override void Forward(LinearActivation input, DeviceTensor output, bool accumulate = false)
    {
        var x = input.Float ?? throw new InvalidOperationException("a full-precision linear's input was made without its float form");
        if (!accumulate)
        {
            Forward(x, output);
            return;
        }

        using var result = Weight.Device.AllocateScratch(output.Type, output.Rows, output.Columns);
        Forward(x, result);
        Weight.Device.AddInPlace(output, result);
    }

    public override bool ReadsInt8 => false;

    public override void Dispose()
    {
        Weight.Dispose();
        Bias?.Dispose();
    }
}
