using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// One Llama-family decoder layer (Touvron et al. 2023): pre-norm grouped-query attention with rotary positions,
/// then a pre-norm SwiGLU MLP, each added to the residual stream. The layer owns its weights and the paged KV cache of
/// every live sequence, which is what lets one layer live in one grain.
/// </summary>
public sealed class DecoderLayer : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly DeviceTensor _inverseFrequencies;
    private readonly PagedKvCache _cache;
    private readonly DecodeGraphs _graphs;
    private readonly float _eps;

    /// <param name="activationType">
    /// what the residual stream, every activation and the paged KV cache hold: Float32, or BFloat16 for a bf16 model on a
    /// GPU (vLLM's <c>--dtype</c>: <see cref="WeightPrecisions.StorageOn(WeightPrecision, IComputeDevice)"/>).
    /// </param>
    public DecoderLayer(int index, ModelConfig config, DecoderLayerWeights weights, IComputeDevice device, TensorType activationType = TensorType.Float32)
    {
        if (activationType is not (TensorType.Float32 or TensorType.BFloat16))
        {
            throw new ArgumentException($"layer {index}: activations are Float32 or BFloat16, not {activationType}", nameof(activationType));
        }

        Index = index;
        Config = config;
        Weights = weights;
        _device = device;
        _eps = (float)config.RmsNormEps;
        Shape = new AttentionShape(config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, config.SlidingWindow);
        _inverseFrequencies = device.UploadVector<float>(RotaryEmbedding.InverseFrequencies(config));
        _cache = new PagedKvCache(device, Shape.KvWidth, activationType, config.MaxPositionEmbeddings);
        _graphs = new DecodeGraphs(device, _cache, Compute);
        ActivationType = activationType;
    }

    public int Index { get; }

    /// <summary>Float32 or BFloat16: what the residual stream this layer advances, its intermediates and its KV cache hold.</summary>
    public TensorType ActivationType { get; }

    public ModelConfig Config { get; }

    public IComputeDevice Device => _device;

    public DecoderLayerWeights Weights { get; private set; }

    /// <summary>Bumped each time new weights are swapped in.</summary>
    public int Version { get; private set; }

    public AttentionShape Shape { get; }

    /// <summary>Sequences whose keys and values this layer holds.</summary>
    public int LiveSequences => _cache.LiveSequences;

    /// <summary>Bytes of the cache blocks live sequences hold (<see cref="KvCacheSize.Bytes"/> of each).</summary>
    public long KvCacheBytes => _cache.HeldBytes;

    /// <summary>Bytes the cache's block pool takes on the device; it grows when full and is kept for later sequences.</summary>
    public long KvPoolBytes => _cache.PoolBytes;

    /// <summary>
    /// Advances the residual stream <paramref name="hidden"/> <c>[T, hidden]</c> through this layer, in place, with the
    /// serving weights or, for sequential calibration, with <paramref name="weights"/> built beside them.
    /// </summary>
    public void Forward(DeviceTensor hidden, ForwardBatch batch, ILinearInputObserver? observer = null, DecoderLayerWeights? weights = null)
    {
        if (hidden.Type != ActivationType)
        {
            throw new ArgumentException($"layer {Index}: the residual stream is {hidden}, but this layer's activations are {ActivationType}", nameof(hidden));
        }

        // A decode step of the serving weights replays a recorded graph of Compute where the device records them.
        if (observer is null && weights is null && _graphs.TryForward(hidden, batch, Weights))
        {
            return;
        }

        // The step's positions, cache slots and block tables, with its new positions' blocks taken from the pool.
        using var step = StepLayout.Reserve(batch, _cache, _device);
        Compute(hidden, step, weights ?? Weights, observer);
    }

    /// <summary>The step's arithmetic, on a layout already on the device: what a decode graph records.</summary>
    private void Compute(DeviceTensor hidden, StepLayout step, DecoderLayerWeights w) => Compute(hidden, step, w, observer: null);

    private void Compute(DeviceTensor hidden, StepLayout step, DecoderLayerWeights w, ILinearInputObserver? observer)
    {
        int tokens = step.Positions.Columns;
        var type = ActivationType;
        using var query = _device.AllocateScratch(type, tokens, Shape.QueryWidth);
        using var keys = _device.AllocateScratch(type, tokens, Shape.KvWidth);
        using var values = _device.AllocateScratch(type, tokens, Shape.KvWidth);
        using var attended = _device.AllocateScratch(type, tokens, Shape.QueryWidth);
        bool observed = observer is not null;

        // Attention block. The normed input is quantized once for q, k and v (in the norm's kernel) when they are W8A8,
        // and the three run as one grouped GEMM. o_proj and down_proj add into the residual stream themselves.
        using (var normed = LinearActivation.Normalize(_device, hidden, w.InputNorm, _eps, w.Forms(LinearInput.Attention, observed)))
        {
            observer?.Observe(LinearInput.Attention, normed.Float!);
            Linear.ForwardAll(normed, [w.QueryProjection, w.KeyProjection, w.ValueProjection], [query, keys, values]);
        }

        _device.ApplyRope(query, Shape.Heads, Shape.HeadDim, step.Positions, _inverseFrequencies);
        _device.ApplyRope(keys, Shape.KvHeads, Shape.HeadDim, step.Positions, _inverseFrequencies);
        _device.WriteKvCache(keys, values, step.Slots, _cache.Keys, _cache.Values);
        _device.PagedAttention(query, _cache.Keys, _cache.Values, step.Attention, Shape, attended);

        observer?.Observe(LinearInput.AttentionOutput, attended);
        using (var attention = LinearActivation.Of(_device, attended))
        {
            w.OutputProjection.Forward(attention, hidden, accumulate: true);
        }

        // MLP block: gate and up share one quantized input. When both are W8A8, SwiGLU runs in their GEMM's epilogue and
        // only silu(gate)·up reaches memory (in gate), quantized for down on first use; else SwiGLU's own kernel makes
        // the forms down and the observer read.
        using var gate = _device.AllocateScratch(type, tokens, Config.IntermediateSize);
        using var up = _device.AllocateScratch(type, tokens, Config.IntermediateSize);
        bool swiGluDone;
        using (var normed = LinearActivation.Normalize(_device, hidden, w.PostAttentionNorm, _eps, w.Forms(LinearInput.Mlp, observed)))
        {
            observer?.Observe(LinearInput.Mlp, normed.Float!);
            swiGluDone = Linear.TryForwardSwiGlu(normed, w.GateProjection, w.UpProjection, gate, up);
            if (!swiGluDone)
            {
                Linear.ForwardAll(normed, [w.GateProjection, w.UpProjection], [gate, up]);
            }
        }

        using (var activated = swiGluDone ? LinearActivation.Of(_device, gate) : LinearActivation.SwiGlu(_device, gate, up, w.Forms(LinearInput.MlpDown, observed)))
        {
            observer?.Observe(LinearInput.MlpDown, activated.Float!);
            w.DownProjection.Forward(activated, hidden, accumulate: true);
        }
    }

    /// <summary>
    /// Puts new weights in service and returns the old ones for the caller to dispose. Call between forward steps:
    /// a step reads the weights once when it starts, so it runs wholly on one version.
    /// </summary>
    public DecoderLayerWeights SwapWeights(DecoderLayerWeights weights)
    {
        // Graphs point at the old weights, which the caller is about to free.
        _graphs.Clear();
        var old = Weights;
        Weights = weights;
        Version++;
        return old;
    }

    /// <summary>
    /// Sizes the KV cache's pool for <paramref name="sequences"/> sequences of <paramref name="positions"/> positions
    /// up front (it never shrinks), so the steps that fill it never stop to grow it.
    /// </summary>
    public void ReserveKvCache(int sequences, int positions) =>
        _cache.EnsureCapacity(checked(sequences * KvCacheSize.Blocks(positions)));

    /// <summary>Gives the KV pool back to the device when no sequence is live (see <see cref="PagedKvCache.Trim"/>); the bytes freed.</summary>
    public long TrimKvCache() => _cache.Trim();

    /// <summary>Forgets a finished sequence's keys and values: its blocks go back to the pool.</summary>
    public void EndSequence(long sequenceId) => _cache.End(sequenceId);

    /// <summary>The recorded decode steps (for tests: their counts, and a stand-in for a GPU's graphs on the CPU).</summary>
    internal DecodeGraphs DecodeGraphs => _graphs;

    public void Dispose()
    {
        _graphs.Dispose();
        _cache.Dispose();
        _inverseFrequencies.Dispose();
        Weights.Dispose();
    }
}
