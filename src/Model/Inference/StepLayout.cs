using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Where one forward step's tokens go in a layer's paged KV cache, as the Int32 device tensors the kernels read:
/// each row's position (RoPE) and cache slot (<see cref="IComputeDevice.WriteKvCache"/>), and the varlen layout of
/// the step's sequences (<see cref="IComputeDevice.PagedAttention"/>). Built once per step on the host from the
/// batch and the cache's bookkeeping, then uploaded, so no kernel waits on a host read.
/// </summary>
internal sealed class StepLayout : IDisposable
{
    private StepLayout(DeviceTensor positions, DeviceTensor slots, AttentionBatch attention)
    {
        Positions = positions;
        Slots = slots;
        Attention = attention;
    }

    /// <summary>Int32 <c>[1, T]</c>: the absolute position of every row.</summary>
    public DeviceTensor Positions { get; }

    /// <summary>Int32 <c>[1, T]</c>: the cache row each row's key and value go to.</summary>
    public DeviceTensor Slots { get; }

    public AttentionBatch Attention { get; }

    /// <summary>
    /// Takes the cache blocks the batch's new positions need and lays the step out over them. Every chunk must start
    /// where its sequence left off; that is checked for all of them before any block is taken.
    /// </summary>
    public static StepLayout Reserve(ForwardBatch batch, PagedKvCache cache, IComputeDevice device)
    {
        var chunks = batch.Chunks;
        foreach (var chunk in chunks)
        {
            int cached = cache.Length(chunk.SequenceId);
            if (chunk.StartPosition != cached)
            {
                throw new InvalidOperationException(
                    $"sequence {chunk.SequenceId}: a chunk starts at position {chunk.StartPosition} but {cached} positions are cached; chunks must continue where the sequence left off");
            }
        }

        int sequences = chunks.Count, blockSize = KvCacheSize.BlockSize;
        int maxQuery = 0, maxContext = 0;
        foreach (var chunk in chunks)
        {
            cache.Extend(chunk.SequenceId, chunk.StartPosition + chunk.Length);
            maxQuery = Math.Max(maxQuery, chunk.Length);
            maxContext = Math.Max(maxContext, chunk.StartPosition + chunk.Length);
        }

        int maxBlocks = KvCacheSize.Blocks(maxContext);
        var slots = new int[batch.TokenCount];
        var queryStarts = new int[sequences + 1];
        var contextLengths = new int[sequences];
        var blockTables = new int[sequences * maxBlocks];
        Array.Fill(blockTables, -1);
        for (int s = 0; s < sequences; s++)
        {
            var chunk = chunks[s];
            var blocks = cache.BlocksOf(chunk.SequenceId);
            for (int b = 0; b < blocks.Count; b++)
            {
                blockTables[s * maxBlocks + b] = blocks[b];
            }

            for (int i = 0; i < chunk.Length; i++)
            {
                int position = chunk.StartPosition + i;
                slots[batch.RowStart(s) + i] = blocks[position / blockSize] * blockSize + position % blockSize;
            }

            queryStarts[s] = batch.RowStart(s);
            contextLengths[s] = chunk.StartPosition + chunk.Length;
        }

        queryStarts[sequences] = batch.TokenCount;
        var attention = new AttentionBatch(
            device.UploadVector<int>(queryStarts),
            device.UploadVector<int>(contextLengths),
            device.UploadNew<int>(blockTables, sequences, maxBlocks),
            blockSize, sequences, maxQuery, maxContext);
        return new StepLayout(device.UploadVector<int>(batch.Positions), device.UploadVector<int>(slots), attention);
    }

    public void Dispose()
    {
        Positions.Dispose();
        Slots.Dispose();
        Attention.Dispose();
    }
}
