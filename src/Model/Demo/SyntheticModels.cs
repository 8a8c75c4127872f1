using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Demo;

/// <summary>
/// Models named <c>synthetic:NAME</c>: a <see cref="DemoModelSpec"/> whose weights are generated on the device that
/// holds them (<see cref="SyntheticModel"/>) instead of being written to files and carried there — what makes an
/// 8B-shaped model loadable in seconds on a GPU machine with nothing on its disk. They have no tokenizer.
/// </summary>
public static class SyntheticModels
{
    public const string Prefix = "synthetic:";

    /// <summary>
    /// Llama-3-8B's shapes (32 layers, hidden 4096, 32/8 heads × 128, intermediate 14336, vocab 128256, rope θ 500000)
    /// with the demo model's outlier channels. Full precision on a device: 8.03 B parameters, 32.1 GB in float32.
    /// </summary>
    public static DemoModelSpec Llama3_8B { get; } = new(
        "llama3-8b",
        new ModelConfig
        {
            Architecture = "LlamaForCausalLM",
            ModelType = "llama",
            VocabSize = 128256,
            HiddenSize = 4096,
            IntermediateSize = 14336,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 8,
            HeadDim = 128,
            MaxPositionEmbeddings = 8192,
            RmsNormEps = 1e-5,
            RopeTheta = 500000,
            TieWordEmbeddings = false,
            BosTokenId = 128000,
            EosTokenIds = [128001],
            TorchDtype = "bfloat16",
        },
        DemoVocabulary.Bytes,
        Seed: 20261128,
        StoreAs: TensorDType.BF16,
        OutlierGains: [24f, 45f, 70f, 100f]);

    /// <summary>The tiny test model's shapes (4 layers, hidden 64, 258 ids): seconds on a CPU, for tests.</summary>
    public static DemoModelSpec Tiny { get; } = DemoModels.Tiny;

    public static IReadOnlyList<DemoModelSpec> All { get; } = [Llama3_8B, Tiny];

    /// <summary>Whether <paramref name="model"/> asks for a synthetic model (known or not: an unknown name is an error, not a path).</summary>
    public static bool IsSynthetic(string model) => model.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The spec <paramref name="model"/> names (<c>synthetic:NAME</c>), or null when it names no synthetic model.</summary>
    public static DemoModelSpec? Find(string model) =>
        IsSynthetic(model)
            ? All.FirstOrDefault(s => string.Equals(s.Name, model[Prefix.Length..], StringComparison.OrdinalIgnoreCase))
            : null;

    public static DemoModelSpec ByName(string model) =>
        Find(model) ?? throw new ArgumentException(
            $"unknown synthetic model '{model}'; expected one of {string.Join(", ", All.Select(s => Prefix + s.Name))}", nameof(model));
}
