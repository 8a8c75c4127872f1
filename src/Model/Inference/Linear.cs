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

    /// <summary>The same from a step's shared input, in the form this linear reads (float, or int8 per token).</summary>
    public abstract void Forward(LinearActivation input, DeviceTensor output);

    /// <summary>Whether this linear reads its input quantized to int8 per token (W8A8) rather than in float.</summary>
    public abstract bool ReadsInt8 { get; }

    public abstract void Dispose();
}
