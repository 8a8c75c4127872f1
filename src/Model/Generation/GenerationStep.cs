using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// One step of continuous batching, the same for one process and a cluster: every member's next chunk goes through
/// the pipeline as one batch (new members' prompts and the others' last tokens mixed), then each member samples a
/// token from the logits of its last row.
/// </summary>
public static class GenerationStep
{
    /// <returns>the token each member chose, in order, and the layer versions that produced them.</returns>
    public static async Task<(int[] Tokens, IReadOnlyList<int> LayerVersions)> Run(
        ILayerPipeline pipeline, IReadOnlyList<DecodingSequence> members, IReadOnlyList<long> ended, CancellationToken cancellation = default)
    {
        var chunks = new SequenceChunk[members.Count];
        var tokens = new List<int>();
        for (int i = 0; i < members.Count; i++)
        {
            var (chunk, ids) = members[i].NextChunk();
            chunks[i] = chunk;
            tokens.AddRange(ids);
        }

        var batch = new ForwardBatch(chunks);
        var rows = Enumerable.Range(0, chunks.Length).Select(batch.LastRow).ToArray();
        var logits = await pipeline.Logits(tokens.ToArray(), PipelineStep.Serve(batch, ended), rows, cancellation);
        int vocab = pipeline.Config.VocabSize;
        var chosen = new int[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            chosen[i] = members[i].Accept(logits.Values.AsSpan(i * vocab, vocab));
        }

        return (chosen, logits.LayerVersions);
    }
}
