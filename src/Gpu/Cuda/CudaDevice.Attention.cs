namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // attention.cu: 128 threads, each holding up to 4 output dimensions of its head.
    private const int AttentionThreads = 128;
    private const int MaxHeadDim = 4 * AttentionThreads;

    public void Attention(DeviceTensor query, int queryRow, int queryCount, DeviceTensor keyCache, DeviceTensor valueCache,
        int kvLength, AttentionShape shape, DeviceTensor output)
    {
        if (query.Columns != shape.QueryWidth || output.Columns != shape.QueryWidth
            || keyCache.Columns != shape.KvWidth || valueCache.Columns != shape.KvWidth)
        {
            throw new ArgumentException($"{nameof(Attention)}: widths of {query}, {keyCache}, {valueCache}, {output} do not match {shape}");
        }

        RequireRows(query, queryRow, queryCount, nameof(Attention));
        RequireRows(output, queryRow, queryCount, nameof(Attention));
        RequireRows(keyCache, 0, kvLength, nameof(Attention));
        RequireRows(valueCache, 0, kvLength, nameof(Attention));
        if (queryCount > kvLength)
        {
            throw new ArgumentException($"{nameof(Attention)}: {queryCount} queries but only {kvLength} cached positions");
        }

        if (shape.HeadDim > MaxHeadDim || shape.KvHeads < 1 || shape.Heads % shape.KvHeads != 0)
        {
            throw new ArgumentException($"{nameof(Attention)}: {shape} needs head dim ≤ {MaxHeadDim} and heads a multiple of KV heads");
        }

        ulong q = Own(query, nameof(Attention)).Pointer, k = Own(keyCache, nameof(Attention)).Pointer;
        ulong v = Own(valueCache, nameof(Attention)).Pointer, o = Own(output, nameof(Attention)).Pointer;
        int heads = shape.Heads, kvHeads = shape.KvHeads, headDim = shape.HeadDim, window = shape.SlidingWindow ?? 0;
        float scale = 1f / MathF.Sqrt(headDim);
        void** arguments = stackalloc void*[] { &q, &k, &v, &o, &queryRow, &queryCount, &kvLength, &heads, &kvHeads, &headDim, &window, &scale };
        uint sharedBytes = (uint)((headDim + AttentionThreads) * sizeof(float));
        Launch("attention_causal", (uint)queryCount, (uint)heads, AttentionThreads, sharedBytes, arguments);
    }
}
