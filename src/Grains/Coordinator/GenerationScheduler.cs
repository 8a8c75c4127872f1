using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Continuous batching over lanes, one per device the model spans. A new sequence is admitted only while the KV cache
/// it will need fits in each layer's budget next to the live ones; a refusal fails that request alone, before it
/// joins a lane, so the sequences already batched never see it.
/// </summary>
internal sealed class GenerationScheduler(ClusterPipeline pipeline, LayerRecovery recovery, ModelTokenizer tokenizer, long kvBudgetBytes, TensorType kvCacheType, ILogger logger)
{
    // Sequence ids name KV caches in layer grains that can outlive this coordinator: one that reactivates in another
    // process must not reuse its predecessor's ids, so each process starts its ids at a random multiple of 2^24.
    private static long s_nextSequence = (long)Random.Shared.Next(1, int.MaxValue) << 24;
    private readonly List<GenerationLane> _lanes = new();

    /// <summary>What brings back layers lost with a silo; its lanes wait for it and re-prefill their sequences.</summary>
    public LayerRecovery Recovery => recovery;

    public int ActiveSequences => _lanes.Sum(l => l.Members.Count);

    /// <summary>Each layer's KV-cache budget in bytes: a new sequence is admitted while its prompt fits beside the live ones.</summary>
    public long KvBudgetBytes => kvBudgetBytes;

    /// <summary>What the layers' KV caches hold (Float32 or BFloat16), which sets how many positions the budget buys.</summary>
    public TensorType KvCacheType => kvCacheType;

    /// <summary>Ends every live sequence's stream with <paramref name="error"/>: the coordinator is going away.</summary>
    public void Abort(Exception error)
    {
        foreach (var member in _lanes.SelectMany(l => l.Members).ToArray())
        {
            member.Output.Writer.TryComplete(error);
        }
    }

    /// <summary>Puts a request into the lane with the fewest sequences; its tokens come out of the returned member.</summary>
    public LaneMember Admit(GenerationRequest request)
    {
        var config = pipeline.Config;
        var sequence = new DecodingSequence(Interlocked.Increment(ref s_nextSequence), request);
        int kvWidth = config.NumKeyValueHeads * config.HeadDim;
        var live = _lanes.SelectMany(l => l.Members).ToArray();
        long held = live.Sum(m => KvCacheSize.Bytes(m.Sequence.Positions, kvWidth, kvCacheType));
        long needed = KvCacheSize.Bytes(request.PromptIds.Count, kvWidth, kvCacheType);
        if (live.Length > 0 && held + needed > kvBudgetBytes)
        {
            throw new InvalidOperationException(
                $"the KV cache holds {held} bytes per layer for {live.Length} sequences and this prompt needs {needed} more, over its budget of {kvBudgetBytes}; no new sequence fits until some finish");
        }

        while (_lanes.Count < pipeline.DeviceCount)
        {
            _lanes.Add(new GenerationLane(pipeline, recovery, tokenizer, logger));
        }

        var member = new LaneMember(sequence, pipeline.Model);
        _lanes.MinBy(l => l.Members.Count)!.Add(member);
        return member;
    }
}
