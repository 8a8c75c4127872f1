namespace OrleansQuant.Model;

/// <summary>
/// The parts of a Hugging Face config.json that a Llama/Mistral/Qwen2 decoder needs, with transformers' defaults
/// applied and cross-field rules checked, so layer code never sees a null or an inconsistent shape.
/// Field names follow transformers' LlamaConfig / MistralConfig / Qwen2Config.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM (config.json "architectures"[0]).</summary>
    public required string Architecture { get; init; }

    /// <summary>"llama", "mistral" or "qwen2".</summary>
    public required string ModelType { get; init; }

    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumHiddenLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    public required int NumKeyValueHeads { get; init; }

    public required int HeadDim { get; init; }

    public int MaxPositionEmbeddings { get; init; } = 2048;

    public required double RmsNormEps { get; init; }

    public double RopeTheta { get; init; } = 10000;

    /// <summary>Null means plain RoPE ("default" in transformers).</summary>
    public RopeScaling? RopeScaling { get; init; }

    public bool TieWordEmbeddings { get; init; }

    /// <summary>
    /// q/k/v projections carry biases: always for Qwen2, never for Mistral, and as "attention_bias" says for Llama
    /// (where it also gives o_proj a bias, as transformers' LlamaAttention does).
    /// </summary>
    public bool AttentionBias { get; init; }

    public int? BosTokenId { get; init; }

    /// <summary>All end-of-sequence ids: Llama 3.1 lists several, older configs give one.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Mistral's sliding attention window; null for full attention.</summary>
    public int? SlidingWindow { get; init; }

    public string TorchDtype { get; init; } = "float32";

    /// <summary>Reads and validates a config.json file.</summary>
    public static ModelConfig Load(string path)
    {
        return Parse(Files.InputFile.ReadAllText(path, Files.InputLimits.ConfigJson, "a Hugging Face config.json"), path);
    }

    /// <summary>Parses and validates config.json text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source) => ModelConfigParser.Parse(json, source);

    /// <summary>A config.json that transformers loads into the same model; <see cref="Parse"/> of it round-trips.</summary>
    public string ToJson() => ModelConfigWriter.Write(this);

    // Written out because the compiler-generated equality compares EosTokenIds by reference.
    public bool Equals(ModelConfig? other) =>
        other is not null
        && Architecture == other.Architecture
        && ModelType == other.ModelType
        && VocabSize == other.VocabSize
        && HiddenSize == other.HiddenSize
        && IntermediateSize == other.IntermediateSize
        && NumHiddenLayers == other.NumHiddenLayers
        && NumAttentionHeads == other.NumAttentionHeads
        && NumKeyValueHeads == other.NumKeyValueHeads
        && HeadDim == other.HeadDim
        && MaxPositionEmbeddings == other.MaxPositionEmbeddings
        && RmsNormEps.Equals(other.RmsNormEps)
        && RopeTheta.Equals(other.RopeTheta)
        && Equals(RopeScaling, other.RopeScaling)
        && TieWordEmbeddings == other.TieWordEmbeddings
        && AttentionBias == other.AttentionBias
        && BosTokenId == other.BosTokenId
        && EosTokenIds.SequenceEqual(other.EosTokenIds)
        && SlidingWindow == other.SlidingWindow
        && TorchDtype == other.TorchDtype;

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Architecture);
        hash.Add(VocabSize);
        hash.Add(HiddenSize);
        hash.Add(IntermediateSize);
        hash.Add(NumHiddenLayers);
        hash.Add(NumAttentionHeads);
        hash.Add(NumKeyValueHeads);
        hash.Add(HeadDim);
        hash.Add(RmsNormEps);
        hash.Add(RopeTheta);
        foreach (int id in EosTokenIds)
        {
            hash.Add(id);
        }

        return hash.ToHashCode();
    }
}
