namespace OrleansQuant.Model.Inference;

/// <summary>
/// A run of consecutive tokens of one sequence inside a forward batch: a whole prompt at prefill, one token at
/// decode. <paramref name="StartPosition"/> is the position of its first token, which equals what the layers have
/// already cached for that sequence.
/// </summary>
public readonly record struct SequenceChunk(long SequenceId, int StartPosition, int Length);
