using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// The tokens a step sampled on the device, one per sampled row, with their log-probabilities under the unscaled
/// softmax, and the version of every layer that produced them (so a caller can observe a re-quantized layer going into
/// service between two steps). When the step asked (<see cref="StepScoring"/>): <see cref="Sampled"/> scores the sampled
/// rows (the sampled token as target), <see cref="Scored"/> the scoring's rows.
/// </summary>
public sealed record StepSamples(int[] Ids, float[] LogProbs, IReadOnlyList<int> LayerVersions, TokenScores? Sampled = null, TokenScores? Scored = null);
