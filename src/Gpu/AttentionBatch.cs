namespace OrleansQuant.Gpu;

/// <summary>
/// How the sequences of one step lie in a paged KV cache, as Int32 tensors on the device (vLLM's varlen layout):
/// <see cref="QueryStarts"/> <c>[1, S + 1]</c> — sequence s's query rows are <c>[QueryStarts[s], QueryStarts[s+1])</c>;
/// <see cref="ContextLengths"/> <c>[1, S]</c> — positions cached for s, this step's included;
/// <see cref="BlockTables"/> <c>[S, MaxBlocks]</c> — the cache blocks of s in order (unused entries are -1).
/// The host-side maxima let a kernel size its grid without reading the tensors back.
/// </summary>
public sealed record AttentionBatch(
    DeviceTensor QueryStarts,
    DeviceTensor ContextLengths,
    DeviceTensor BlockTables,
    int BlockSize,
    int Sequences,
    int MaxQueryLength,
    int MaxContextLength) : IDisposable
{
    public void Dispose()
    {
        QueryStarts.Dispose();
        ContextLengths.Dispose();
        BlockTables.Dispose();
    }
}
