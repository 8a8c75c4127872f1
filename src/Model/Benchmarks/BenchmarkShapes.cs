namespace OrleansQuant.Model.Benchmarks;

/// <summary>A linear whose GPTQ is timed: <c>[Rows, Columns]</c> = <c>[out, in]</c>, named by the layer's module.</summary>
public sealed record GptqShape(string Op, int Rows, int Columns);

/// <summary>
/// The shapes <c>orleansquant bench</c> measures: one decoder layer's dimensions, the token counts of the GEMMs and of
/// prefill, the decode batches and their context, and the linears whose GPTQ is timed. The GEMM ops are the fused
/// linears of <c>bench_torch.py</c> (qkv, o, gate_up, down), so both sides time the same products.
/// </summary>
public sealed record BenchmarkShapes
{
    public required string Name { get; init; }

    public required int Hidden { get; init; }

    public required int Intermediate { get; init; }

    public required int Heads { get; init; }

    public required int KvHeads { get; init; }

    public required int HeadDim { get; init; }

    /// <summary>Token counts of the GEMMs, the W8A8 linear and the layer prefill.</summary>
    public required IReadOnlyList<int> Tokens { get; init; }

    /// <summary>Sequences decoded at once, one new token each.</summary>
    public required IReadOnlyList<int> Batches { get; init; }

    /// <summary>Tokens each decoded sequence holds in the layer's KV cache.</summary>
    public required int Context { get; init; }

    public required IReadOnlyList<GptqShape> Gptq { get; init; }

    /// <summary>Random activation rows behind each GPTQ Hessian. GPTQ's own time does not depend on it, only H's rank does.</summary>
    public required int GptqTokens { get; init; }

    /// <summary>The size of the device-to-device copy whose bandwidth sets the decode floor.</summary>
    public required long CopyBytes { get; init; }

    /// <summary>Llama-3-8B: hidden 4096, intermediate 14336, 32 query / 8 KV heads of 128.</summary>
    public static BenchmarkShapes Llama3_8B { get; } = new()
    {
        Name = "llama3-8b",
        Hidden = 4096,
        Intermediate = 14336,
        Heads = 32,
        KvHeads = 8,
        HeadDim = 128,
        Tokens = [1, 16, 64, 512, 2048, 4096],
        Batches = [1, 8, 16, 64],
        Context = 1024,
        Gptq = [new("o", 4096, 4096), new("down", 4096, 14336)],
        GptqTokens = 16384,
        CopyBytes = 1L << 30,
    };

    /// <summary>The tiny test model's layer (hidden 64, intermediate 160, 4/2 heads of 16): seconds on a CPU, for tests.</summary>
    public static BenchmarkShapes Tiny { get; } = new()
    {
        Name = "tiny",
        Hidden = 64,
        Intermediate = 160,
        Heads = 4,
        KvHeads = 2,
        HeadDim = 16,
        Tokens = [1, 16, 64],
        Batches = [1, 4],
        Context = 32,
        Gptq = [new("o", 64, 64), new("down", 64, 160)],
        GptqTokens = 256,
        CopyBytes = 1L << 22,
    };

    public static IReadOnlyList<BenchmarkShapes> Presets { get; } = [Llama3_8B, Tiny];

    public static BenchmarkShapes Named(string name) =>
        Presets.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--shapes '{name}' is not known; expected one of {string.Join(", ", Presets.Select(p => p.Name))}");

    public int QueryWidth => Heads * HeadDim;

    public int KvWidth => KvHeads * HeadDim;

    /// <summary>The fused linears of one layer as <c>bench_torch.py</c> names them: (op, in = k, out = n).</summary>
    public IReadOnlyList<(string Op, int K, int N)> GemmOps =>
    [
        ("qkv", Hidden, QueryWidth + 2 * KvWidth),
        ("o", QueryWidth, Hidden),
        ("gate_up", Hidden, 2 * Intermediate),
        ("down", Intermediate, Hidden),
    ];

    /// <summary>A one-layer Llama config of these shapes (Llama 3's rope theta and norm epsilon).</summary>
    public ModelConfig LayerConfig() => new()
    {
        Architecture = "LlamaForCausalLM",
        ModelType = "llama",
        VocabSize = 128256,
        HiddenSize = Hidden,
        IntermediateSize = Intermediate,
        NumHiddenLayers = 1,
        NumAttentionHeads = Heads,
        NumKeyValueHeads = KvHeads,
        HeadDim = HeadDim,
        MaxPositionEmbeddings = 131072,
        RmsNormEps = 1e-5,
        RopeTheta = 500000,
    };
}
