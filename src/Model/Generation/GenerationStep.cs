using OrleansQuant.Gpu;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// One step of continuous batching, the same for one process and a cluster: every member's next chunk goes through
/// the pipeline as one batch (new members' prompts and the others' last tokens mixed), and the head's device samples
/// each member's token from its last row with the member's own <see cref="SamplingStream"/> draw; only the tokens and
/// their log-probabilities come back.
/// </summary>
public static class GenerationStep
{
    /// <returns>the token each member chose, in order, with its log-probability and the layer versions that produced them.</returns>
    public static async Task<StepSamples> Run(
        ILayerPipeline pipeline, IReadOnlyList<DecodingSequence> members, IReadOnlyList<long> ended, CancellationToken cancellation = default)
    {
        var chunks = new SequenceChunk[members.Count];
        var sampling = new SamplingRow[members.Count];
        var tokens = new List<int>();
        for (int i = 0; i < members.Count; i++)
        {
            var (chunk, ids) = members[i].NextChunk();
            chunks[i] = chunk;
            sampling[i] = members[i].NextSampling();
            tokens.AddRange(ids);
        }

        var batch = new ForwardBatch(chunks);
        var rows = Enumerable.Range(0, chunks.Length).Select(batch.LastRow).ToArray();
        var samples = await pipeline.Sample(tokens.ToArray(), PipelineStep.Serve(batch, ended), rows, sampling, cancellation);
        for (int i = 0; i < members.Count; i++)
        {
            members[i].Accept(samples.Ids[i], samples.LogProbs[i]);
        }

        return samples;
    }
}
