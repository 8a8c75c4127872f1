using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// A linear projection y = x · Wᵀ (+ b) as the decoder layer sees it. Full-precision and W8A8 variants share this
/// shape, so the same forward pass serves FP and quantized layers.
/// </summary>
public abstract class Linear : IDisposable
{
    public abstract int InputFeatures { get; }

    public abstract int OutputFeatures { get; }

    /// <summary>Device memory the weights occupy.</summary>
    public abstract long ByteLength { get; }

    /// <summary>input <c>[T, InputFeatures]</c> → output <c>[T, OutputFeatures]</c>.</summary>
    public abstract void Forward(DeviceTensor input, DeviceTensor output);

    /// <summary>
    /// The same from a step's shared input, in the form this linear reads (float, or int8 per token); with
    /// <paramref name="accumulate"/> the result is added to <paramref name="output"/> (the residual stream), rounded as
    /// a separate <see cref="IComputeDevice.AddInPlace"/> would round it.
    /// </summary>
    public abstract void Forward(LinearActivation input, DeviceTensor output, bool accumulate = false);

    /// <summary>
    /// Several linears that read one input (q, k and v; gate and up), each into its output: the W8A8 ones as one grouped
    /// device call (one launch on a GPU), the others one by one. Equal to their own calls bit for bit.
    /// </summary>
    public static void ForwardAll(LinearActivation input, ReadOnlySpan<Linear> linears, ReadOnlySpan<DeviceTensor> outputs)
    {
        int int8 = 0;
        foreach (var linear in linears)
        {
            int8 += linear is Int8Linear ? 1 : 0;
        }

        if (int8 < 2)
        {
            for (int i = 0; i < linears.Length; i++)
            {
                linears[i].Forward(input, outputs[i]);
            }

            return;
        }

        var projections = new Int8Projection[int8];
        for (int i = 0, j = 0; i < linears.Length; i++)
        {
            if (linears[i] is Int8Linear w8a8)
            {
                projections[j++] = w8a8.Projection(outputs[i]);
            }
            else
            {
                linears[i].Forward(input, outputs[i]);
            }
        }

        var (quantized, tokenScales) = input.Int8();
        quantized.Device.MatMulInt8(quantized, tokenScales, projections);
    }

    /// <summary>
    /// SwiGLU's input, silu(gate(x))·up(x), into <paramref name="gateOutput"/> when both linears are W8A8 (one fused device
    /// call; <paramref name="upOutput"/> is scratch), and true; false, having done nothing, otherwise.
    /// </summary>
    public static bool TryForwardSwiGlu(LinearActivation input, Linear gate, Linear up, DeviceTensor gateOutput, DeviceTensor upOutput)
    {
        if (gate is not Int8Linear gateW8A8 || up is not Int8Linear upW8A8)
        {
            return false;
        }

        var (quantized, tokenScales) = input.Int8();
        quantized.Device.MatMulInt8SwiGlu(quantized, tokenScales, gateW8A8.Projection(gateOutput), upW8A8.Projection(upOutput));
        return true;
    }

    /// <summary>Whether this linear reads its input quantized to int8 per token (W8A8) rather than in float.</summary>
    public abstract bool ReadsInt8 { get; }

    public abstract void Dispose();
}
