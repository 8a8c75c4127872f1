using System.Threading.Channels;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Grains.Scheduling;

/// <summary>A request being generated: its tokens so far, its sampler, and the channel its tokens stream out of.</summary>
internal sealed class ActiveSequence(long id, int[] prompt, int maxTokens, IReadOnlyList<int> stops, TokenSampler sampler)
{
    public long Id { get; } = id;

    public int[] Prompt { get; } = prompt;

    public List<int> Generated { get; } = new();

    public int MaxTokens { get; } = maxTokens;

    public IReadOnlyList<int> Stops { get; } = stops;

    public TokenSampler Sampler { get; } = sampler;

    public Channel<GeneratedToken> Output { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The chunk this sequence contributes to the next step: its whole prompt first, then its last token.</summary>
    public (ChunkDescriptor Chunk, int[] Tokens) NextChunk() =>
        Generated.Count == 0
            ? (new ChunkDescriptor(Id, 0, Prompt.Length), Prompt)
            : (new ChunkDescriptor(Id, Prompt.Length + Generated.Count - 1, 1), [Generated[^1]]);
}
