namespace OrleansQuant.Gpu;

/// <summary>Head layout of grouped-query attention: query head h reads key/value head h / (Heads / KvHeads).</summary>
public readonly record struct AttentionShape(int Heads, int KvHeads, int HeadDim, int? SlidingWindow = null)
{
    public int QueryWidth => Heads * HeadDim;

    public int KvWidth => KvHeads * HeadDim;

    public int GroupSize => Heads / KvHeads;
}
