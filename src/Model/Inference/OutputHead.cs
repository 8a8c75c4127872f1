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

    /// <summary>
    /// What the residual stream holds: BFloat16 when the full-precision weights are bf16 (vLLM's <c>--dtype</c> sets both),
    /// else Float32. Logits are Float32 either way.
    /// </summary>
    public TensorType ActivationType => Embedding.Type == TensorType.BFloat16 ? TensorType.BFloat16 : TensorType.Float32;

    public static OutputHead Load(WeightLoader loader, ModelConfig config)
    {
        var embedding = loader.LoadMatrix("model.embed_tokens.weight", config.VocabSize, config.HiddenSize);
        var norm = loader.LoadVector("model.norm.weight", config.HiddenSize);
        // Some tied checkpoints still carry lm_head.weight; the config decides, as in transformers.
        var head = config.TieWordEmbeddings ? embedding : loader.LoadMatrix("lm_head.weight", config.VocabSize, config.HiddenSize);
        return new OutputHead(config, embedding, norm, head, loader.Device);
    }

    /// <summary>The residual stream at layer 0: one embedding row per token.</summary>
    public DeviceTensor Embed(ReadOnlySpan<int> tokens)
    {
        using var ids = _device.UploadVector(tokens);
        var hidden = _device.Allocate(ActivationType, tokens.Length, Config.HiddenSize);
        _device.Embed(ids, Embedding, hidden);
        return hidden;
    }

    /// <summary>
    /// Logits <c>[rows.Length, vocab]</c> of the chosen rows of the final residual stream, on the host: for evaluation
    /// (perplexity, KL), which needs every token's probability. Generation uses <see cref="Sample"/>.
    /// </summary>
    public float[] Logits(DeviceTensor hidden, ReadOnlySpan<int> rows)
    {
        using var logits = DeviceLogits(hidden, rows);
        return logits.ToArray<float>();
    }

    /// <summary>
    /// One token per chosen row of the final residual stream: final norm, lm_head and sampling
    /// (<see cref="IComputeDevice.SampleTokens"/>) all on the head's device, with <paramref name="sampling"/>[i] for
    /// row i; only <paramref name="ids"/> and <paramref name="logProbs"/> (under the unscaled softmax) come back. Given
    /// <paramref name="scores"/> (one row per sampled row), the same logits are scored too, the sampled token as target
    /// (<see cref="IComputeDevice.TokenLogProbs"/>), without a trip to the host between.
    /// </summary>
    public void Sample(DeviceTensor hidden, ReadOnlySpan<int> rows, ReadOnlySpan<SamplingRow> sampling, Span<int> ids, Span<float> logProbs, TokenScores? scores = null)
    {
        if (sampling.Length != rows.Length || ids.Length != rows.Length || logProbs.Length != rows.Length)
        {
            throw new ArgumentException($"{rows.Length} rows to sample, but {sampling.Length} sampling rows, {ids.Length} id and {logProbs.Length} log-probability slots");
        }

        using var logits = DeviceLogits(hidden, rows);
        using var chosen = _device.Allocate(TensorType.Int32, 1, rows.Length);
        using var probabilities = _device.Allocate(TensorType.Float32, 1, rows.Length);
        _device.SampleTokens(logits, sampling, chosen, probabilities);
        if (scores is not null)
        {
            ScoreLogits(logits, chosen, scores, 0);
        }

        _device.Download(chosen, ids);
        _device.Download(probabilities, logProbs);
    }

    /// <summary>
    /// Scores chosen rows of the final residual stream against given next tokens, for prompt log-probabilities: row
    /// <paramref name="rows"/>[i] gets log P(<paramref name="targets"/>[i]) and its top tokens in <paramref name="scores"/>.
    /// A long prompt goes <see cref="ScoreChunkRows"/> rows at a time, so its logits never take more device memory than that.
    /// </summary>
    public void Score(DeviceTensor hidden, ReadOnlySpan<int> rows, ReadOnlySpan<int> targets, TokenScores scores)
    {
        if (targets.Length != rows.Length || scores.Rows != rows.Length)
        {
            throw new ArgumentException($"{rows.Length} rows to score, but {targets.Length} targets and {scores.Rows} score rows");
        }

        for (int start = 0; start < rows.Length; start += ScoreChunkRows)
        {
            int count = Math.Min(ScoreChunkRows, rows.Length - start);
            using var logits = DeviceLogits(hidden, rows.Slice(start, count));
            using var wanted = _device.UploadVector(targets.Slice(start, count));
            ScoreLogits(logits, wanted, scores, start);
        }
    }

    /// <summary>Rows of logits a <see cref="Score"/> call holds at once: 256 × a 128k vocabulary is 128 MiB.</summary>
    public const int ScoreChunkRows = 256;

    /// <summary><see cref="IComputeDevice.TokenLogProbs"/> of <paramref name="logits"/>, downloaded into <paramref name="scores"/> from row <paramref name="first"/>.</summary>
    private void ScoreLogits(DeviceTensor logits, DeviceTensor targets, TokenScores scores, int first)
    {
        int count = logits.Rows, top = scores.Top;
        using var targetLogProbs = _device.Allocate(TensorType.Float32, 1, count);
        using var topIds = _device.Allocate(TensorType.Int32, count, top);
        using var topLogProbs = _device.Allocate(TensorType.Float32, count, top);
        _device.TokenLogProbs(logits, targets, targetLogProbs, topIds, topLogProbs);
        _device.Download(targetLogProbs, scores.TargetLogProbs.AsSpan(first, count));
        _device.Download(topIds, scores.TopIds.AsSpan(first * top, count * top));
        _device.Download(topLogProbs, scores.TopLogProbs.AsSpan(first * top, count * top));
    }

    /// <summary>lm_head(norm(hidden[rows])) <c>[rows.Length, vocab]</c>, left on the device.</summary>
    private DeviceTensor DeviceLogits(DeviceTensor hidden, ReadOnlySpan<int> rows)
    {
        // Runs of consecutive rows (a decode step's every row is one run) go in one copy each, not a copy per row.
        using var selected = _device.AllocateScratch(hidden.Type, rows.Length, Config.HiddenSize);
        for (int i = 0; i < rows.Length;)
        {
            int run = 1;
            while (i + run < rows.Length && rows[i + run] == rows[i] + run)
            {
                run++;
            }

            _device.CopyRows(hidden, rows[i], selected, i, run);
            i += run;
        }

        using var normed = _device.AllocateScratch(hidden.Type, rows.Length, Config.HiddenSize);
        _device.RmsNorm(selected, FinalNorm, _eps, normed);
        var logits = _device.Allocate(TensorType.Float32, rows.Length, Config.VocabSize);
        try
        {
            _device.MatMul(normed, LmHead, null, logits);
            return logits;
        }
        catch
        {
            logits.Dispose();
            throw;
        }
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
