using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// Generates several sequences at once on a <see cref="CausalLanguageModel"/>: one batched prefill of every prompt,
/// then batched decode steps of one token per live sequence, each leaving the batch when it stops.
/// </summary>
public sealed class Generator
{
    private static long s_nextSequenceId;
    private readonly CausalLanguageModel _model;

    public Generator(CausalLanguageModel model) => _model = model;

    /// <param name="onToken">Called with (request index, token) as each token is chosen, for streaming.</param>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, Action<int, int>? onToken = null)
    {
        foreach (var request in requests)
        {
            request.Validate();
        }

        int count = requests.Count;
        var ids = new long[count];
        var samplers = new TokenSampler[count];
        var generated = new List<int>[count];
        var finish = new FinishReason?[count];
        for (int r = 0; r < count; r++)
        {
            ids[r] = Interlocked.Increment(ref s_nextSequenceId);
            samplers[r] = new TokenSampler(requests[r].Sampling);
            generated[r] = new List<int>();
        }

        try
        {
            var live = Enumerable.Range(0, count).ToList();
            bool prefill = true;
            while (live.Count > 0)
            {
                var chunks = new List<SequenceChunk>(live.Count);
                var tokens = new List<int>();
                foreach (int r in live)
                {
                    var prompt = requests[r].PromptIds;
                    if (prefill)
                    {
                        chunks.Add(new SequenceChunk(ids[r], 0, prompt.Count));
                        tokens.AddRange(prompt);
                    }
                    else
                    {
                        chunks.Add(new SequenceChunk(ids[r], prompt.Count + generated[r].Count - 1, 1));
                        tokens.Add(generated[r][^1]);
                    }
                }

                float[] logits = _model.Forward(tokens.ToArray(), new ForwardBatch(chunks));
                int vocab = _model.Config.VocabSize;
                for (int i = 0; i < live.Count; i++)
                {
                    int r = live[i];
                    int token = samplers[r].Next(logits.AsSpan(i * vocab, vocab));
                    generated[r].Add(token);
                    onToken?.Invoke(r, token);
                    if (requests[r].StopIds.Contains(token))
                    {
                        finish[r] = FinishReason.Stop;
                    }
                    else if (generated[r].Count >= requests[r].MaxNewTokens)
                    {
                        finish[r] = FinishReason.Length;
                    }
                }

                foreach (int r in live.Where(r => finish[r] is not null))
                {
                    _model.EndSequence(ids[r]);
                }

                live.RemoveAll(r => finish[r] is not null);
                prefill = false;
            }
        }
        finally
        {
            foreach (long id in ids)
            {
                _model.EndSequence(id);
            }
        }

        return Enumerable.Range(0, count)
            .Select(r => new GenerationResult(requests[r].PromptIds, generated[r], finish[r]!.Value))
            .ToArray();
    }
}
