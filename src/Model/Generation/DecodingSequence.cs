using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// One sequence being generated, wherever it runs: its prompt and tokens so far, its sampling stream, and when it stops.
/// Its first step carries the whole prompt (prefill), every later step its last token (decode).
/// </summary>
public sealed class DecodingSequence
{
    private readonly List<int> _generated = new();
    private readonly List<float> _logProbs = new();
    private readonly SamplingStream _sampling;

    public DecodingSequence(long id, GenerationRequest request)
    {
        request.Validate();
        Id = id;
        Request = request;
        _sampling = new SamplingStream(request.Sampling);
    }

    public long Id { get; }

    public GenerationRequest Request { get; }

    public IReadOnlyList<int> Generated => _generated;

    /// <summary>Each generated token's log-probability under the model's unscaled softmax.</summary>
    public IReadOnlyList<float> LogProbs => _logProbs;

    public FinishReason? Finish { get; private set; }

    /// <summary>Positions this sequence occupies in every layer's KV cache once its next step has run.</summary>
    public int Positions => Request.PromptIds.Count + _generated.Count;

    /// <summary>The chunk and tokens this sequence contributes to its next step.</summary>
    public (SequenceChunk Chunk, IReadOnlyList<int> Tokens) NextChunk() =>
        _generated.Count == 0
            ? (new SequenceChunk(Id, 0, Request.PromptIds.Count), Request.PromptIds)
            : (new SequenceChunk(Id, Request.PromptIds.Count + _generated.Count - 1, 1), [_generated[^1]]);

    /// <summary>How the device is to sample this sequence's next token (takes a draw from its stream unless greedy).</summary>
    public SamplingRow NextSampling() => _sampling.Next();

    /// <summary>Takes the token the device sampled; sets <see cref="Finish"/> when it was the last.</summary>
    public void Accept(int token, float logProb)
    {
        _generated.Add(token);
        _logProbs.Add(logProb);
        if (Request.StopIds.Contains(token))
        {
            Finish = FinishReason.Stop;
        }
        else if (_generated.Count >= Request.MaxNewTokens)
        {
            Finish = FinishReason.Length;
        }
    }
}
