namespace OrleansQuant.Model.Quantization;

/// <summary>A whole-model quantization run: per-layer results and where the time went.</summary>
public sealed record QuantizationReport(
    QuantizationMode Mode,
    int Samples,
    long Tokens,
    TimeSpan CalibrationTime,
    TimeSpan TotalTime,
    IReadOnlyList<LayerQuantizationReport> Layers);
