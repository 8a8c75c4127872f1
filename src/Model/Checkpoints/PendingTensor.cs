namespace OrleansQuant.Model.Checkpoints;

/// <summary>A tensor queued for writing; <see cref="Data"/> is a private copy, so callers may reuse their buffers.</summary>
internal sealed record PendingTensor(string Name, TensorDType DType, long[] Shape, byte[] Data);
