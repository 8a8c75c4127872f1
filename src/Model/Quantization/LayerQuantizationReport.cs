namespace OrleansQuant.Model.Quantization;

/// <summary>One layer's quantization: its linears, how long it took, and the layer's W8A8 output error before and after.</summary>
public sealed record LayerQuantizationReport(int Layer, TimeSpan Duration, IReadOnlyList<LinearQuantizationReport> Linears)
{
    /// <summary>Mean relative W8A8 output error of the layer's linears with round-to-nearest and no smoothing.</summary>
    public double ErrorBefore => Linears.Count == 0 ? 0 : Linears.Average(l => l.BaselineError);

    /// <summary>The same with the recipe applied.</summary>
    public double ErrorAfter => Linears.Count == 0 ? 0 : Linears.Average(l => l.W8A8Error);
}
