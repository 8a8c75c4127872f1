namespace OrleansQuant.Model.Inference;

/// <summary>
/// The tokens of one forward step, several sequences laid end to end as rows of one activation matrix, so each
/// linear runs once for the whole batch (prefill and decode chunks may mix: continuous batching).
/// </summary>
public sealed class ForwardBatch
{
    private readonly int[] _rowStarts;

    public ForwardBatch(IReadOnlyList<SequenceChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            throw new ArgumentException("a forward batch needs at least one sequence chunk", nameof(chunks));
        }

        Chunks = chunks;
        _rowStarts = new int[chunks.Count];
        var seen = new HashSet<long>();
        int rows = 0;
        for (int c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks[c];
            if (chunk.Length <= 0 || chunk.StartPosition < 0)
            {
                throw new ArgumentException($"sequence {chunk.SequenceId}: chunk of {chunk.Length} tokens at position {chunk.StartPosition}; expected at least one token at a non-negative position", nameof(chunks));
            }

            if (!seen.Add(chunk.SequenceId))
            {
                throw new ArgumentException($"sequence {chunk.SequenceId} appears twice in one batch", nameof(chunks));
            }

            _rowStarts[c] = rows;
            rows += chunk.Length;
        }

        TokenCount = rows;
        Positions = new int[rows];
        for (int c = 0; c < chunks.Count; c++)
        {
            for (int i = 0; i < chunks[c].Length; i++)
            {
                Positions[_rowStarts[c] + i] = chunks[c].StartPosition + i;
            }
        }
    }

    /// <summary>A batch of one sequence starting at position 0.</summary>
    public static ForwardBatch Single(long sequenceId, int length) => new([new SequenceChunk(sequenceId, 0, length)]);

    public IReadOnlyList<SequenceChunk> Chunks { get; }

    public int TokenCount { get; }

    /// <summary>Absolute position of every row, for rotary embeddings.</summary>
    public int[] Positions { get; }

    public int RowStart(int chunk) => _rowStarts[chunk];

    /// <summary>Row of the last token of each chunk: the rows whose logits decide the next token.</summary>
    public int LastRow(int chunk) => _rowStarts[chunk] + Chunks[chunk].Length - 1;
}
