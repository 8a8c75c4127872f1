using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// Generates several sequences at once on a <see cref="CausalLanguageModel"/>: one batched prefill of every prompt,
/// then batched decode steps of one token per live sequence, each leaving the batch when it stops. The step is
/// <see cref="GenerationStep"/>, the one the cluster's lanes run.
/// </summary>
public sealed class Generator
{
    private static long s_nextSequenceId;
    private readonly LocalLayerPipeline _pipeline;

    public Generator(CausalLanguageModel model) => _pipeline = new LocalLayerPipeline(model);

    /// <param name="onToken">Called with (request index, token) as each token is chosen, for streaming.</param>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, Action<int, int>? onToken = null)
    {
        var sequences = requests.Select(r => new DecodingSequence(Interlocked.Increment(ref s_nextSequenceId), r)).ToArray();
        var live = sequences.ToList();
        var ended = new List<long>();
        try
        {
            while (live.Count > 0)
            {
                // The local pipeline completes synchronously.
                var tokens = GenerationStep.Run(_pipeline, live, ended.ToArray()).GetAwaiter().GetResult().Ids;
                ended.Clear();
                for (int i = 0; i < live.Count; i++)
                {
                    onToken?.Invoke(Array.IndexOf(sequences, live[i]), tokens[i]);
                }

                ended.AddRange(live.Where(s => s.Finish is not null).Select(s => s.Id));
                live.RemoveAll(s => s.Finish is not null);
            }
        }
        finally
        {
            _pipeline.EndSequences(sequences.Select(s => s.Id).ToArray()).GetAwaiter().GetResult();
        }

        return sequences.Select(s => new GenerationResult(s.Request.PromptIds, s.Generated, s.Finish!.Value)).ToArray();
    }
}
