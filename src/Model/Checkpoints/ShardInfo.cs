namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// What a writer of one safetensors shard tells whoever writes model.safetensors.index.json: the shard's file name
/// (relative to the checkpoint directory), the tensors it holds and their data bytes (what the index's
/// <c>metadata.total_size</c> sums, headers excluded). Plain strings and numbers, so it can cross a process boundary
/// while the tensors themselves never do.
/// </summary>
public sealed record ShardInfo(string FileName, string[] TensorNames, long TotalBytes);
