using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// The ends of the model that stay at full precision: token embedding in, final RMSNorm and <c>lm_head</c> out
/// (llm-compressor leaves <c>lm_head</c> unquantized). With tied embeddings the head reuses the embedding table.
/// </summary>
public sealed class OutputHead : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly float _eps;

    public OutputHead(ModelConfig config, DeviceTensor embedding, DeviceTensor finalNorm, DeviceTensor lmHead, IComputeDevice device)
    {
        Config = config;
        Embedding = embedding;
        FinalNorm = finalNorm;
        LmHead = lmHead;
        _device = device;
        _eps = (float)config.RmsNormEps;
    }

    public ModelConfig Config { get; }

    public DeviceTensor Embedding { get; }

    public DeviceTensor FinalNorm { get; }

    public DeviceTensor LmHead { get; }

    public IComputeDevice Device => _device;

    public static OutputHead Load(WeightLoader loader, ModelConfig config)
    {
        var embedding = loader.Load("model.embed_tokens.weight", config.VocabSize, config.HiddenSize);
        var norm = loader.LoadVector("model.norm.weight", config.HiddenSize);
        // Some tied checkpoints still carry lm_head.weight; the config decides, as in transformers.
        var head = config.TieWordEmbeddings ? embedding : loader.Load("lm_head.weight", config.VocabSize, config.HiddenSize);
        return new OutputHead(config, embedding, norm, head, loader.Device);
    }

    /// <summary>The residual stream at layer 0: one embedding row per token.</summary>
    public DeviceTensor Embed(ReadOnlySpan<int> tokens)
    {
        using var ids = _device.UploadVector(tokens);
        var hidden = _device.Allocate(TensorType.Float32, tokens.Length, Config.HiddenSize);
        _device.Embed(ids, Embedding, hidden);
        return hidden;
    }

    /// <summary>Logits <c>[rows.Length, vocab]</c> of the chosen rows of the final residual stream.</summary>
    public float[] Logits(DeviceTensor hidden, ReadOnlySpan<int> rows)
    {
        using var selected = _device.Allocate(TensorType.Float32, rows.Length, Config.HiddenSize);
        for (int i = 0; i < rows.Length; i++)
        {
            _device.CopyRows(hidden, rows[i], selected, i, 1);
        }

        using var normed = _device.Allocate(TensorType.Float32, rows.Length, Config.HiddenSize);
        _device.RmsNorm(selected, FinalNorm, _eps, normed);
        using var logits = _device.Allocate(TensorType.Float32, rows.Length, Config.VocabSize);
        _device.MatMul(normed, LmHead, null, logits);
        return logits.ToArray<float>();
    }

    public void Dispose()
    {
        Embedding.Dispose();
        FinalNorm.Dispose();
        if (!ReferenceEquals(LmHead, Embedding))
        {
            LmHead.Dispose();
        }
    }
}
