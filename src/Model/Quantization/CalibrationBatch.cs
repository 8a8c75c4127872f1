using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>One forward step of calibration: the samples' tokens end to end, and the batch that lays them out.</summary>
public sealed record CalibrationBatch(int[] Tokens, ForwardBatch Batch);
