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

    public abstract void Dispose();
}
