using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// One micro-batch of live sequences cycling through the layer pipeline, one <see cref="GenerationStep"/> at a time
/// (the step the single-process generator runs too). Members join between steps and leave when they finish; their KV
/// caches are freed with the next step. Several lanes run at once, each at a different stage, which is what keeps the
/// devices of a pipeline busy together.
/// </summary>
internal sealed class GenerationLane(ClusterPipeline pipeline, ModelTokenizer tokenizer, ILogger logger)
{
    private readonly List<LaneMember> _members = new();
    private readonly List<LaneMember> _ended = new();
    private Task? _loop;

    public IReadOnlyList<LaneMember> Members => _members;

    /// <summary>Adds a sequence; it joins at the lane's next step. Must be called on the grain's thread.</summary>
    public void Add(LaneMember member)
    {
        _members.Add(member);
        if (_loop is null || _loop.IsCompleted)
        {
            _loop = Run();
        }
    }

    private async Task Run()
    {
        while (true)
        {
            while (_members.Count > 0)
            {
                foreach (var gone in _members.Where(m => m.Abandoned).ToArray())
                {
                    Leave(gone, error: null);
                }

                if (_members.Count == 0)
                {
                    break;
                }

                var members = _members.ToArray();
                var ended = _ended.ToArray();
                _ended.Clear();
                try
                {
                    await Step(members, ended.Select(m => m.Sequence.Id).ToArray());
                    Released(ended);
                }
                catch (Exception error)
                {
                    // The frees this step carried may not have happened: they go with the next step or on their own.
                    _ended.AddRange(ended);
                    logger.LogWarning(error, "Generation step failed; ending {Count} sequences", members.Length);
                    foreach (var member in members)
                    {
                        Leave(member, error);
                    }
                }
            }

            // Nothing left to carry the frees with: send them on their own. A request that joins while they travel
            // finds this loop still running, so the loop must look for members again before it ends.
            if (_ended.Count == 0)
            {
                return;
            }

            var finished = _ended.ToArray();
            _ended.Clear();
            try
            {
                await pipeline.EndSequences(finished.Select(m => m.Sequence.Id).ToArray());
            }
            finally
            {
                // Whoever waits for the memory must not wait forever on a failed call (whose blocks then stay held
                // until the layer unloads).
                Released(finished);
            }
        }
    }

    private static void Released(IEnumerable<LaneMember> members)
    {
        foreach (var member in members)
        {
            member.MarkReleased();
        }
    }

    private async Task Step(LaneMember[] members, long[] ended)
    {
        foreach (var member in members)
        {
            member.StopWaiting();
        }

        var samples = await GenerationStep.Run(pipeline, members.Select(m => m.Sequence).ToArray(), ended);
        pipeline.Hops.Step();
        var model = OrleansQuantMetrics.Model(pipeline.Model);
        OrleansQuantMetrics.BatchSize.Record(members.Length, model);
        OrleansQuantMetrics.GeneratedTokens.Add(members.Length, model);
        for (int i = 0; i < members.Length; i++)
        {
            var sequence = members[i].Sequence;
            string? finish = sequence.Finish?.ToString().ToLowerInvariant();
            members[i].Output.Writer.TryWrite(Token(sequence, samples.Ids[i], finish, samples.LayerVersions));
            members[i].TokenWritten();
            if (finish is not null)
            {
                Leave(members[i], error: null);
            }
        }
    }

    /// <summary>The token a sequence just took, with its log-probabilities, and its prompt's scores when it is the first.</summary>
    private GeneratedToken Token(DecodingSequence sequence, int id, string? finish, IReadOnlyList<int> versions)
    {
        var prompt = sequence.Generated.Count == 1 && sequence.PromptScores is { } scores
            ? sequence.Request.PromptIds.Select((token, p) => p == 0
                ? new PromptTokenLogprobs(token, tokenizer.DecodeToken(token), null, [])
                : new PromptTokenLogprobs(token, tokenizer.DecodeToken(token), scores[p - 1].LogProb, Top(scores[p - 1].Top))).ToArray()
            : null;
        return new GeneratedToken(sequence.Generated.Count - 1, id, tokenizer.DecodeToken(id), finish, versions,
            sequence.LogProbs[^1], sequence.LastTop is { } top ? Top(top) : null, prompt);
    }

    private TokenLogprob[] Top(IReadOnlyList<TokenLogProb> top) => top.Select(t => new TokenLogprob(t.Id, tokenizer.DecodeToken(t.Id), t.LogProb)).ToArray();

    private void Leave(LaneMember member, Exception? error)
    {
        member.StopWaiting();
        member.Output.Writer.TryComplete(error);
        _members.Remove(member);
        _ended.Add(member);
    }
}
