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

    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the layers have been told to free this sequence's KV cache (with the lane's next step, or on their
    /// own when the lane ran dry), which can be after its last token: what waits to reuse that memory awaits this.
    /// </summary>
    public Task Released => _released.Task;

    public void MarkReleased() => _released.TrySetResult();
}
