namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Writes a Hugging Face safetensors checkpoint directory the way transformers' save_pretrained does:
/// one model.safetensors when everything fits in <c>maxShardBytes</c>, otherwise numbered shards plus
/// model.safetensors.index.json. Tensors fill shards in insertion order; a tensor larger than the limit gets a shard of its own.
/// </summary>
public sealed class CheckpointWriter
{
    private readonly TensorCollection _tensors = new();

    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<byte> data) =>
        _tensors.Add(name, dtype, shape, data);

    /// <summary>Stores floats as F32, F16 or BF16 (both rounded to nearest, ties to even, as PyTorch does).</summary>
    public void AddFloat32(string name, long[] shape, ReadOnlySpan<float> values, TensorDType storeAs = TensorDType.F32) =>
        _tensors.AddFloat32(name, shape, values, storeAs);

    public void AddInt8(string name, long[] shape, ReadOnlySpan<sbyte> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I8);

    public void AddInt32(string name, long[] shape, ReadOnlySpan<int> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I32);

    public void AddInt64(string name, long[] shape, ReadOnlySpan<long> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I64);

    /// <summary>
    /// Writes the checkpoint into <paramref name="directory"/> (created if needed) and removes checkpoint files
    /// a previous save left there, so a reader never picks a stale model.safetensors over the new index.
    /// Every file's "__metadata__" gets <paramref name="metadata"/> plus "format":"pt" unless the caller set a
    /// format: transformers refuses safetensors files whose metadata lacks it.
    /// </summary>
    /// <returns>The files written, relative to <paramref name="directory"/>.</returns>
    public IReadOnlyList<string> WriteTo(
        string directory, long maxShardBytes = long.MaxValue, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        System.IO.Directory.CreateDirectory(directory);

        var fileMetadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                fileMetadata[key] = value;
            }
        }

        List<List<PendingTensor>> shards = Split(_tensors.Tensors, maxShardBytes);
        var written = new List<string>();
        if (shards.Count <= 1)
        {
            SafeTensorsWriter.Write(Path.Combine(directory, CheckpointFiles.SingleFile), _tensors.Tensors, fileMetadata);
            written.Add(CheckpointFiles.SingleFile);
        }
        else
        {
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < shards.Count; i++)
            {
                string shardFile = CheckpointFiles.ShardName(i + 1, shards.Count);
                SafeTensorsWriter.Write(Path.Combine(directory, shardFile), shards[i], fileMetadata);
                written.Add(shardFile);
                foreach (PendingTensor tensor in shards[i])
                {
                    weightMap[tensor.Name] = shardFile;
                }
            }

            // The index goes last: its presence is what tells a reader the shards are complete.
            long totalSize = _tensors.Tensors.Sum(t => (long)t.Data.Length);
            CheckpointIndex.Write(Path.Combine(directory, CheckpointFiles.IndexFile), totalSize, weightMap);
            written.Add(CheckpointFiles.IndexFile);
        }

        CheckpointFiles.DeleteStale(directory, written);

        return written;
    }

    private static List<List<PendingTensor>> Split(IReadOnlyList<PendingTensor> tensors, long maxShardBytes)
    {
        var shards = new List<List<PendingTensor>>();
        var current = new List<PendingTensor>();
        long currentBytes = 0;
        foreach (PendingTensor tensor in tensors)
        {
            if (current.Count > 0 && currentBytes + tensor.Data.Length > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                currentBytes = 0;
            }

            current.Add(tensor);
            currentBytes += tensor.Data.Length;
        }

        if (current.Count > 0)
        {
            shards.Add(current);
        }

        return shards;
    }
}
