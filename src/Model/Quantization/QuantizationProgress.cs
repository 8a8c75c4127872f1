namespace OrleansQuant.Model.Quantization;

/// <summary>A step of a long quantization run: calibration batches passed, or layers quantized, out of the total.</summary>
public sealed record QuantizationProgress(string Stage, int Done, int Total, TimeSpan Elapsed, LayerQuantizationReport? Layer = null)
{
    public override string ToString() =>
        Layer is { } layer
            ? $"{Stage} {Done}/{Total}: layer {layer.Layer} in {layer.Duration.TotalSeconds:F1}s, W8A8 error {layer.ErrorBefore:E2} → {layer.ErrorAfter:E2}"
            : $"{Stage} {Done}/{Total} ({Elapsed.TotalSeconds:F1}s)";
}
