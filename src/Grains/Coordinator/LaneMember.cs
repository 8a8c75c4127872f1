using System.Threading.Channels;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// A sequence in a generation lane and the channel its tokens stream out of. A caller that stops reading abandons it,
/// and the lane drops it before its next step instead of generating for no one.
/// </summary>
internal sealed class LaneMember(DecodingSequence sequence)
{
    public DecodingSequence Sequence { get; } = sequence;

    public bool Abandoned { get; private set; }

    public void Abandon() => Abandoned = true;

    public Channel<GeneratedToken> Output { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true });
}
