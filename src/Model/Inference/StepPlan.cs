namespace OrleansQuant.Model.Inference;

/// <summary>
/// The host half of a <see cref="StepLayout"/>: where one step's tokens go in a layer's paged KV cache, as the Int32
/// arrays its tensors will hold. Made by taking the blocks the step's new positions need from the cache, so it is made
/// once per step, before anything is uploaded.
/// </summary>
internal sealed class StepPlan
{
    private StepPlan(int[] positions, int[] slots, int[] queryStarts, int[] contextLengths, int[] blockTables, int blockTableWidth,
        int maxQueryLength, int maxContextLength)
    {
        Positions = positions;
        Slots = slots;
        QueryStarts = queryStarts;
        ContextLengths = contextLengths;
        BlockTables = blockTables;
        BlockTableWidth = blockTableWidth;
        MaxQueryLength = maxQueryLength;
        MaxContextLength = maxContextLength;
    }

    /// <summary>The absolute position of every row <c>[T]</c>.</summary>
    public int[] Positions { get; }

    /// <summary>The cache row each row's key and value go to <c>[T]</c>.</summary>
    public int[] Slots { get; }

    /// <summary><c>[S + 1]</c>: sequence s's rows are <c>[QueryStarts[s], QueryStarts[s+1])</c>.</summary>
    public int[] QueryStarts { get; }

    /// <summary><c>[S]</c>: positions cached for each sequence, this step's included.</summary>
    public int[] ContextLengths { get; }

    /// <summary><c>[S, BlockTableWidth]</c>, row-major; unused entries are -1.</summary>
    public int[] BlockTables { get; }

    public int BlockTableWidth { get; }

    public int Tokens => Positions.Length;

    public int Sequences => ContextLengths.Length;

    public int MaxQueryLength { get; }

    /// <summary>
    /// What attention is told the longest context is: the real one for a step with prefill chunks, its
    /// <see cref="ContextBucket"/> for a decode step (one token per sequence). The block tables are that wide.
    /// </summary>
    public int MaxContextLength { get; }

    /// <summary>
    /// Takes the cache blocks the batch's new positions need and lays the step out over them. Every chunk must start
    /// where its sequence left off; that is checked for all of them before any block is taken.
    /// </summary>
    public static StepPlan Reserve(ForwardBatch batch, PagedKvCache cache)
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

        if (maxQuery == 1)
        {
            maxContext = ContextBucket.Of(maxContext, cache.MaxSequenceLength);
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
        return new StepPlan(batch.Positions, slots, queryStarts, contextLengths, blockTables, maxBlocks, maxQuery, maxContext);
    }
}
