using OrleansQuant.Gpu;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// One step of continuous batching, the same for one process and a cluster: every member's next chunk goes through
/// the pipeline as one batch (new members' prompts and the others' last tokens mixed), and the head's device samples
/// each member's token from its last row with the member's own <see cref="SamplingStream"/> draw; only the tokens and
/// their log-probabilities come back. Members that asked for log-probabilities get the top tokens where theirs was
/// chosen and, at their prefill, every prompt token scored (the rows before each prompt token, targeted at it).
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
        var scoring = Scoring(members, batch);
        var samples = await pipeline.Sample(tokens.ToArray(), PipelineStep.Serve(batch, ended), rows, sampling, scoring, cancellation);
        int scoredRow = 0;
        for (int i = 0; i < members.Count; i++)
        {
            var member = members[i];
            int top = member.Request.TopLogProbs;
            if (member.ScoresPromptNow)
            {
                // A one-token prompt has nothing to score: its scores are empty, not missing.
                var prompt = member.Request.PromptIds;
                var scores = new ScoredToken[prompt.Count - 1];
                for (int p = 1; p < prompt.Count; p++, scoredRow++)
                {
                    var scored = samples.Scored!;
                    scores[p - 1] = new ScoredToken(prompt[p], scored.TargetLogProbs[scoredRow], Top(scored, scoredRow, top));
                }

                member.AcceptPrompt(scores);
            }

            if (top > 0 && samples.Sampled is { } sampled)
            {
                // The scoring's value, not the sampler's: the same float as the token's entry among the top ones.
                member.Accept(samples.Ids[i], sampled.TargetLogProbs[i], Top(sampled, i, top));
            }
            else
            {
                member.Accept(samples.Ids[i], samples.LogProbs[i]);
            }
        }

        return samples;
    }

    /// <summary>What the members ask the head to score this step; null when none asks anything.</summary>
    private static StepScoring? Scoring(IReadOnlyList<DecodingSequence> members, ForwardBatch batch)
    {
        int top = 0;
        bool atSampled = false;
        var rows = new List<int>();
        var targets = new List<int>();
        for (int i = 0; i < members.Count; i++)
        {
            var request = members[i].Request;
            top = Math.Max(top, request.TopLogProbs);
            atSampled |= request.TopLogProbs > 0;
            if (members[i].ScoresPromptNow)
            {
                // Row p − 1 of the prompt predicts prompt token p.
                for (int p = 1; p < request.PromptIds.Count; p++)
                {
                    rows.Add(batch.RowStart(i) + p - 1);
                    targets.Add(request.PromptIds[p]);
                }
            }
        }

        bool promptScores = members.Any(m => m.ScoresPromptNow);
        return atSampled || promptScores ? new StepScoring(Math.Max(1, top), atSampled, rows.ToArray(), targets.ToArray()) : null;
    }

    /// <summary>Row <paramref name="row"/>'s first <paramref name="count"/> top tokens (fewer where the vocabulary ran out).</summary>
    private static TokenLogProb[] Top(TokenScores scores, int row, int count)
    {
        var top = new List<TokenLogProb>(count);
        for (int j = 0; j < Math.Min(count, scores.Top); j++)
        {
            int id = scores.TopIds[row * scores.Top + j];
            if (id >= 0)
            {
                top.Add(new TokenLogProb(id, scores.TopLogProbs[row * scores.Top + j]));
            }
        }

        return top.ToArray();
    }
}
