using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Demo;

/// <summary>The synthetic checkpoints the project ships as code: the interactive demo and the tiny test models.</summary>
public static class DemoModels
{
    /// <summary>8 layers, hidden 512, GQA 8/4 heads, GPT-2 vocabulary: runs at interactive speed on a CPU.</summary>
    public static DemoModelSpec Default { get; } = new(
        "demo",
        new ModelConfig
        {
            Architecture = "LlamaForCausalLM",
            ModelType = "llama",
            VocabSize = 50257,
            HiddenSize = 512,
            IntermediateSize = 1536,
            NumHiddenLayers = 8,
            NumAttentionHeads = 8,
            NumKeyValueHeads = 4,
            HeadDim = 64,
            MaxPositionEmbeddings = 4096,
            RmsNormEps = 1e-5,
            RopeTheta = 10000,
            TieWordEmbeddings = false,
            BosTokenId = 50256,
            EosTokenIds = [50256],
            TorchDtype = "bfloat16",
        },
        DemoVocabulary.Gpt2,
        Seed: 20261127,
        StoreAs: TensorDType.BF16,
        OutlierGains: [24f, 45f, 70f, 100f])
    {
        // Tuned so that the model's own text has a perplexity near 15, like a small trained model's on its own data.
        EmbeddingGain = 1.5f,
        SuccessorHead = true,
    };

    /// <summary>4 layers, hidden 64, byte vocabulary, float32: under a megabyte, for tests and golden files.</summary>
    public static DemoModelSpec Tiny { get; } = new(
        "tiny",
        new ModelConfig
        {
            Architecture = "LlamaForCausalLM",
            ModelType = "llama",
            VocabSize = 258,
            HiddenSize = 64,
            IntermediateSize = 160,
            NumHiddenLayers = 4,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 16,
            MaxPositionEmbeddings = 2048,
            RmsNormEps = 1e-6,
            RopeTheta = 10000,
            TieWordEmbeddings = true,
            BosTokenId = 0,
            EosTokenIds = [1],
            TorchDtype = "float32",
        },
        DemoVocabulary.Bytes,
        Seed: 7,
        StoreAs: TensorDType.F32,
        OutlierGains: [30f, 80f]);

    /// <summary>The tiny model with a separate lm_head, Llama 3 rope scaling and two shards: the other loading paths.</summary>
    public static DemoModelSpec TinySharded { get; } = Tiny with
    {
        Name = "tiny-sharded",
        Seed = 11,
        Config = Tiny.Config with
        {
            TieWordEmbeddings = false,
            RopeTheta = 500000,
            RopeScaling = new RopeScaling("llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64),
        },
        MaxShardBytes = 400_000,
    };

    /// <summary>The tiny model as Qwen2: biases on q/k/v.</summary>
    public static DemoModelSpec TinyQwen2 { get; } = Tiny with
    {
        Name = "tiny-qwen2",
        Seed = 13,
        Config = Tiny.Config with { Architecture = "Qwen2ForCausalLM", ModelType = "qwen2", AttentionBias = true, RopeTheta = 1000000 },
    };

    public static IReadOnlyList<DemoModelSpec> All { get; } = [Default, Tiny, TinySharded, TinyQwen2];

    public static DemoModelSpec ByName(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown demo model '{name}'; expected one of {string.Join(", ", All.Select(s => s.Name))}", nameof(name));
}
