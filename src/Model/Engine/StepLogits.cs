namespace OrleansQuant.Model.Engine;

/// <summary>
/// Logits <c>[rows, vocab]</c> of the rows a step samples from, with the version of every layer that produced them
/// (so a caller can observe a re-quantized layer going into service between two steps).
/// </summary>
public sealed record StepLogits(float[] Values, IReadOnlyList<int> LayerVersions);
