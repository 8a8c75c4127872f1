namespace OrleansQuant.Contracts;

/// <summary>
/// Quantize a loaded model. <see cref="RecipeYaml"/> is an llm-compressor recipe (empty: SmoothQuant 0.8 + GPTQ
/// W8A8). Calibration comes from <see cref="Samples"/> when given (token ids), otherwise from
/// <see cref="Calibration"/>: a text/JSONL path the coordinator's silo can read, or "self".
/// </summary>
[GenerateSerializer, Immutable]
public sealed record QuantizeRequest(
    [property: Id(0)] string RecipeYaml = "",
    [property: Id(1)] string Calibration = "self",
    [property: Id(2)] int SampleCount = 512,
    [property: Id(3)] int MaxTokens = 2048,
    [property: Id(4)] int Seed = 42,
    [property: Id(5)] ClusterQuantizationMode Mode = ClusterQuantizationMode.LayerParallel,
    [property: Id(6)] IReadOnlyList<int[]>? Samples = null);
