using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Keys and values of every live sequence in one layer, paged as in vLLM (Kwon et al. 2023, §4.1): one pool of
/// blocks of <see cref="KvCacheSize.BlockSize"/> positions in two device tensors, a free list, and per sequence the
/// blocks it holds in order. A sequence grows a block at a time without copying its history, and its blocks go back
/// to the pool when it ends, so memory follows the live tokens rather than each sequence's high-water mark.
/// </summary>
internal sealed class PagedKvCache : IDisposable
{
    /// <summary>Blocks in a fresh pool: 64 positions, what one short sequence needs, so a layer that never serves stays small.</summary>
    private const int InitialBlocks = 4;

    private readonly IComputeDevice _device;
    private readonly int _width;
    private readonly TensorType _type;
    private readonly Stack<int> _free = new();
    private readonly Dictionary<long, SequenceBlocks> _sequences = new();
    private readonly int _maxSequenceLength;

    /// <param name="type">Float32, or BFloat16 (half the bytes: a bf16 model's keys and values, as vLLM keeps them).</param>
    /// <param name="maxSequenceLength">the model's context: no sequence grows its blocks past it.</param>
    public PagedKvCache(IComputeDevice device, int width, TensorType type = TensorType.Float32, int maxSequenceLength = int.MaxValue)
    {
        _maxSequenceLength = maxSequenceLength;
        _device = device;
        _width = width;
        _type = type;
        (Keys, Values) = FreshPool();
    }

    /// <summary>The key pool <c>[blocks × BlockSize, kvWidth]</c>; replaced by a larger one when the pool grows.</summary>
    public DeviceTensor Keys { get; private set; }

    public DeviceTensor Values { get; private set; }

    public int CapacityBlocks => Keys.Rows / KvCacheSize.BlockSize;

    /// <summary>The most positions a sequence may hold: the model's context.</summary>
    public int MaxSequenceLength => _maxSequenceLength;

    public int LiveSequences => _sequences.Count;

    /// <summary>Bytes of the blocks live sequences hold: what <see cref="KvCacheSize.Bytes"/> budgets for.</summary>
    public long HeldBytes => 2L * (CapacityBlocks - _free.Count) * KvCacheSize.BlockSize * _width * _type.ElementSize();

    /// <summary>Bytes the pool takes on the device, held or free.</summary>
    public long PoolBytes => Keys.ByteLength + Values.ByteLength;

    /// <summary>Positions cached for a sequence; 0 for one not seen yet.</summary>
    public int Length(long sequenceId) => _sequences.TryGetValue(sequenceId, out var sequence) ? sequence.Length : 0;

    /// <summary>The blocks of a sequence, in position order.</summary>
    public IReadOnlyList<int> BlocksOf(long sequenceId) => _sequences[sequenceId].Blocks;

    /// <summary>Makes room for a sequence to hold <paramref name="length"/> positions, taking blocks from the pool.</summary>
    public void Extend(long sequenceId, int length)
    {
        if (length > _maxSequenceLength)
        {
            throw new InvalidOperationException(
                $"sequence {sequenceId}: {length} positions exceed the model's context of {_maxSequenceLength} (max_position_embeddings); expected requests within it");
        }

        if (!_sequences.TryGetValue(sequenceId, out var sequence))
        {
            sequence = new SequenceBlocks();
            _sequences[sequenceId] = sequence;
        }

        int needed = KvCacheSize.Blocks(length) - sequence.Blocks.Count;
        if (needed > _free.Count)
        {
            Grow(CapacityBlocks - _free.Count + needed);
        }

        for (int b = 0; b < needed; b++)
        {
            sequence.Blocks.Add(_free.Pop());
        }

        sequence.Length = Math.Max(sequence.Length, length);
    }

    /// <summary>Grows the pool now, if needed, to at least <paramref name="blocks"/> blocks, so no later step pays for it.</summary>
    public void EnsureCapacity(int blocks)
    {
        if (blocks > CapacityBlocks)
        {
            Grow(blocks);
        }
    }

    /// <summary>
    /// Gives a pool grown for sequences that have all ended back to the device, down to a fresh pool's size; a no-op
    /// while any sequence is live. The pool never shrinks on its own (serving reuses it), so the many long sequences
    /// of self-calibration would otherwise keep their high-water mark through calibration.
    /// </summary>
    /// <returns>the bytes given back.</returns>
    public long Trim()
    {
        if (_sequences.Count > 0 || CapacityBlocks <= InitialBlocks)
        {
            return 0;
        }

        long before = PoolBytes;
        Keys.Dispose();
        Values.Dispose();
        _free.Clear();
        (Keys, Values) = FreshPool();
        return before - PoolBytes;
    }

    /// <summary>Returns a finished sequence's blocks to the pool.</summary>
    public void End(long sequenceId)
    {
        if (_sequences.Remove(sequenceId, out var sequence))
        {
            // Reversed, so the next sequence takes them in the order this one held them.
            for (int b = sequence.Blocks.Count - 1; b >= 0; b--)
            {
                _free.Push(sequence.Blocks[b]);
            }
        }
    }

    // Rare: the pool doubles (or more, for one long prompt), so the copy of the held rows is amortized over the
    // appends that filled it. Block ids stay valid because rows keep their place.
    private void Grow(int atLeast)
    {
        int old = CapacityBlocks, capacity = Math.Max(2 * old, atLeast);
        Keys = Grown(Keys, capacity);
        Values = Grown(Values, capacity);

        // The new blocks go under the ones still free, so blocks keep being handed out lowest first.
        int[] stillFree = _free.ToArray();
        _free.Clear();
        Free(old, capacity);
        for (int b = stillFree.Length - 1; b >= 0; b--)
        {
            _free.Push(stillFree[b]);
        }
    }

    private DeviceTensor Grown(DeviceTensor pool, int capacityBlocks)
    {
        var grown = _device.Allocate(_type, capacityBlocks * KvCacheSize.BlockSize, _width);
        _device.CopyRows(pool, 0, grown, 0, pool.Rows);
        pool.Dispose();
        return grown;
    }

    private (DeviceTensor Keys, DeviceTensor Values) FreshPool()
    {
        var keys = _device.Allocate(_type, InitialBlocks * KvCacheSize.BlockSize, _width);
        var values = _device.Allocate(_type, InitialBlocks * KvCacheSize.BlockSize, _width);
        Free(0, InitialBlocks);
        return (keys, values);
    }

    /// <summary>Puts blocks <c>[first, end)</c> on the free list, lowest on top.</summary>
    private void Free(int first, int end)
    {
        for (int block = end - 1; block >= first; block--)
        {
            _free.Push(block);
        }
    }

    public void Dispose()
    {
        _sequences.Clear();
        _free.Clear();
        Keys.Dispose();
        Values.Dispose();
    }

    private sealed class SequenceBlocks
    {
        public List<int> Blocks { get; } = new();

        public int Length { get; set; }
    }
}
