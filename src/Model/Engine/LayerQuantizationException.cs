namespace OrleansQuant.Model.Engine;

/// <summary>A layer's quantization failed (a Hessian that is not positive definite, say); the message names the layer.</summary>
public sealed class LayerQuantizationException(int layer, Exception cause)
    : Exception($"layer {layer}: {cause.Message}", cause)
{
    public int Layer { get; } = layer;
}
