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

    /// <summary>Whether this sequence's next step scores its prompt: it asked to, and the step is its prefill.</summary>
    public bool ScoresPromptNow => Request.PromptLogProbs && _generated.Count == 0;

    /// <summary>
    /// Prompt tokens 1, 2, … each scored given the ones before (the first has nothing to be scored on), once its prefill
    /// has run, when the request asked for <see cref="GenerationRequest.PromptLogProbs"/>; null otherwise.
    /// </summary>
    public IReadOnlyList<ScoredToken>? PromptScores { get; private set; }

    /// <summary>The most likely tokens where the last generated token was chosen, when the request asked for top log-probabilities.</summary>
    public IReadOnlyList<TokenLogProb>? LastTop { get; private set; }

    /// <summary>
    /// How the device is to sample this sequence's next token. The draw is the one for its index, however many steps
    /// asked before: a step that failed before <see cref="Accept"/> and is run again draws the same.
    /// </summary>
    public SamplingRow NextSampling() => _sampling.Row(_generated.Count);

    /// <summary>Takes the prefill's scores of prompt tokens 1, 2, ….</summary>
    public void AcceptPrompt(IReadOnlyList<ScoredToken> scores) => PromptScores = scores;

    /// <summary>Takes the token the device sampled (and the top tokens there, when asked); sets <see cref="Finish"/> when it was the last.</summary>
    public void Accept(int token, float logProb, IReadOnlyList<TokenLogProb>? top = null)
    {
        _generated.Add(token);
        _logProbs.Add(logProb);
        LastTop = top;
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
