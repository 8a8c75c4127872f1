using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Scheduling;

/// <summary>
/// One micro-batch of live sequences cycling through the layer pipeline: each step carries every member's next chunk
/// (a new member's whole prompt, the others' last token), then samples one token for each. Members join between
/// steps and leave when they finish; their KV caches are freed with the next step. Several lanes run at once, each
/// at a different layer, which is what keeps the devices of a pipeline busy together.
/// </summary>
internal sealed class GenerationLane(LayerPipeline pipeline, CoordinatorHead head, ModelTokenizer tokenizer, int vocab, ILogger logger)
{
    private readonly List<ActiveSequence> _members = new();
    private readonly List<long> _ended = new();
    private Task? _loop;

    public int Count => _members.Count;

    /// <summary>Adds a sequence; it joins at the lane's next step. Must be called on the grain's thread.</summary>
    public void Add(ActiveSequence sequence)
    {
        _members.Add(sequence);
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
                var members = _members.ToArray();
                var ended = _ended.ToArray();
                _ended.Clear();
                try
                {
                    await Step(members, ended);
                }
                catch (Exception error)
                {
                    logger.LogWarning(error, "Generation step failed; ending {Count} sequences", members.Length);
                    foreach (var member in members)
                    {
                        member.Output.Writer.TryComplete(error);
                        _members.Remove(member);
                        _ended.Add(member.Id);
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
            await pipeline.EndSequences(finished);
        }
    }

    private async Task Step(ActiveSequence[] members, long[] ended)
    {
        var chunks = new ChunkDescriptor[members.Length];
        var tokens = new List<int>();
        var lastRows = new int[members.Length];
        for (int i = 0; i < members.Length; i++)
        {
            var (chunk, ids) = members[i].NextChunk();
            chunks[i] = chunk;
            tokens.AddRange(ids);
            lastRows[i] = tokens.Count - 1;
        }

        var input = await head.Embed(tokens.ToArray());
        var output = await pipeline.Run(chunks, input, ended, 0, pipeline.Count - 1);
        float[] logits = await head.Logits(output, lastRows);
        for (int i = 0; i < members.Length; i++)
        {
            var member = members[i];
            int token = member.Sampler.Next(logits.AsSpan(i * vocab, vocab));
            member.Generated.Add(token);
            string? finish = member.Stops.Contains(token) ? "stop" : member.Generated.Count >= member.MaxTokens ? "length" : null;
            member.Output.Writer.TryWrite(new GeneratedToken(member.Generated.Count - 1, token, tokenizer.DecodeToken(token), finish));
            if (finish is not null)
            {
                member.Output.Writer.TryComplete();
                _members.Remove(member);
                _ended.Add(member.Id);
            }
        }
    }
}
