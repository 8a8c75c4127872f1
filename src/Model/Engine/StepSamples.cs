namespace OrleansQuant.Model.Engine;

/// <summary>
/// The tokens a step sampled on the device, one per sampled row, with their log-probabilities under the unscaled
/// softmax, and the version of every layer that produced them (so a caller can observe a re-quantized layer going into
/// service between two steps).
/// </summary>
public sealed record StepSamples(int[] Ids, float[] LogProbs, IReadOnlyList<int> LayerVersions);
