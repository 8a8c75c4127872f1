using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// One micro-batch of live sequences cycling through the layer pipeline, one <see cref="GenerationStep"/> at a time
/// (the step the single-process generator runs too). Members join between steps and leave when they finish; their KV
/// caches are freed with the next step. Several lanes run at once, each at a different stage, which is what keeps the
/// devices of a pipeline busy together. A step that fails because a silo took layers with it waits for
/// <see cref="LayerRecovery"/>, then re-prefills its members (prompt and tokens so far) and goes on, so their streams
/// continue with the tokens they would have had.
/// </summary>
internal sealed class GenerationLane(ClusterPipeline pipeline, LayerRecovery recovery, ModelTokenizer tokenizer, ILogger logger)
{
    /// <summary>How often one sequence may lose its KV cache and be re-prefilled before it fails instead.</summary>
    public const int MaxReplays = 3;

    private readonly List<LaneMember> _members = new();
    private readonly List<LaneMember> _ended = new();
    private Task? _loop;

    // The recovery epoch this lane's KV caches were made in; behind the recovery's, or set by a failed step that a
    // recovery made worth repeating, the lane re-prefills its members before its next step.
    private int _epoch = recovery.Epoch;
    private bool _replay;

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
                int epoch = recovery.Epoch;
                try
                {
                    if (_replay || _epoch != epoch)
                    {
                        await Replay(members, ended);
                        _replay = false;
                        _epoch = epoch;
                        ended = [];
                    }

                    await Step(members, ended.Select(m => m.Sequence.Id).ToArray());
                    Released(ended);
                }
                catch (Exception error)
                {
                    // The frees this step carried may not have happened: they go with the next step or on their own.
                    _ended.AddRange(ended);
                    if (await Recovered(error, epoch, members))
                    {
                        continue;
                    }

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

    /// <summary>
    /// Whether the failed step was dealt with here: repeated after a re-prefill (its layers were lost and are back, or
    /// the silo error means the step may have run on some of them) unless a member was re-prefilled too often, or its
    /// members ended with the recovery's own error when the layers could not be restored. False: not a lost layer.
    /// </summary>
    private async Task<bool> Recovered(Exception error, int epoch, LaneMember[] members)
    {
        bool again;
        try
        {
            again = await recovery.Recover(error, epoch);
        }
        catch (Exception failed)
        {
            logger.LogError(failed, "Layer recovery failed; ending {Count} sequences", members.Length);
            foreach (var member in members)
            {
                Leave(member, failed);
            }

            return true;
        }

        if (!again)
        {
            return false;
        }

        if (members.FirstOrDefault(m => m.Replays >= MaxReplays) is { } worn)
        {
            logger.LogWarning(error, "Sequence {Sequence} lost its KV cache {Replays} times; ending {Count} sequences", worn.Sequence.Id, worn.Replays, members.Length);
            var gone = new InvalidOperationException(
                $"sequence {worn.Sequence.Id} lost its layers' KV cache {worn.Replays} times (the limit is {MaxReplays}): {error.Message}", error);
            foreach (var member in members)
            {
                Leave(member, gone);
            }

            return true;
        }

        logger.LogWarning("Generation step failed on lost layers ({Error}); re-prefilling {Count} sequences", error.Message, members.Length);
        _replay = true;
        return true;
    }

    /// <summary>
    /// Rebuilds the KV caches of <paramref name="members"/> after a recovery: drops what every layer holds of them (a
    /// step cut short may have written some layers and not others) along with the ended ones, then prefills each
    /// member's prompt and the tokens it generated but the last, which its next step decodes as it would have.
    /// Members that had not finished their prefill just run it in their next step.
    /// </summary>
    private async Task Replay(LaneMember[] members, LaneMember[] ended)
    {
        // Counted before anything can fail, so that a replay failing over and over still runs into the limit.
        foreach (var member in members)
        {
            member.Replayed();
        }

        await pipeline.EndSequences([.. members.Select(m => m.Sequence.Id), .. ended.Select(m => m.Sequence.Id)]);
        Released(ended);
        var replayed = members.Where(m => m.Sequence.Generated.Count > 0).ToArray();

        if (replayed.Length == 0)
        {
            return;
        }

        var tokens = new List<int>();
        var chunks = new SequenceChunk[replayed.Length];
        for (int i = 0; i < replayed.Length; i++)
        {
            var sequence = replayed[i].Sequence;
            var ids = sequence.Request.PromptIds.Concat(sequence.Generated.Take(sequence.Generated.Count - 1)).ToArray();
            chunks[i] = new SequenceChunk(sequence.Id, 0, ids.Length);
            tokens.AddRange(ids);
        }

        await pipeline.Prefill(tokens.ToArray(), new ForwardBatch(chunks));
        logger.LogInformation("Re-prefilled {Count} sequences ({Tokens} tokens) after a layer recovery", replayed.Length, tokens.Count);
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
