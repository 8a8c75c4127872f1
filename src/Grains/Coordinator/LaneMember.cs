using System.Diagnostics;
using System.Threading.Channels;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// A sequence in a generation lane and the channel its tokens stream out of. A caller that stops reading abandons it,
/// and the lane drops it before its next step instead of generating for no one. It counts as waiting from admission
/// until its first step (or until it leaves without one), and times its tokens for the latency histograms.
/// </summary>
internal sealed class LaneMember
{
    private readonly KeyValuePair<string, object?> _model;
    private readonly long _admitted = Stopwatch.GetTimestamp();
    private long _lastToken;
    private bool _waiting = true;

    public LaneMember(DecodingSequence sequence, string model)
    {
        Sequence = sequence;
        _model = OrleansQuantMetrics.Model(model);
        OrleansQuantMetrics.WaitingSequences.Add(1, _model);
    }

    public DecodingSequence Sequence { get; }

    public bool Abandoned { get; private set; }

    public void Abandon() => Abandoned = true;

    /// <summary>How many times its KV cache was rebuilt after layers were lost with a silo.</summary>
    public int Replays { get; private set; }

    public void Replayed() => Replays++;

    public Channel<GeneratedToken> Output { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true });

    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the layers have been told to free this sequence's KV cache (with the lane's next step, or on their
    /// own when the lane ran dry), which can be after its last token: what waits to reuse that memory awaits this.
    /// </summary>
    public Task Released => _released.Task;

    public void MarkReleased() => _released.TrySetResult();

    /// <summary>It takes part in a step, or leaves: it waits no more. Only the first call counts.</summary>
    public void StopWaiting()
    {
        if (_waiting)
        {
            _waiting = false;
            OrleansQuantMetrics.WaitingSequences.Add(-1, _model);
        }
    }

    /// <summary>A token of it was just written out: its first is timed from admission, the others from the one before.</summary>
    public void TokenWritten()
    {
        long now = Stopwatch.GetTimestamp();
        var latency = _lastToken == 0 ? OrleansQuantMetrics.TimeToFirstToken : OrleansQuantMetrics.InterTokenLatency;
        latency.Record(Stopwatch.GetElapsedTime(_lastToken == 0 ? _admitted : _lastToken, now).TotalSeconds, _model);
        _lastToken = now;
    }
}
