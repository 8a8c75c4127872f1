using System.Diagnostics;
using System.Runtime.CompilerServices;
using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// A job a model grain owns: its log of events (kept, so a watcher can leave and come back from where it was), its
/// current stage, its outcome and its cancellation. Touched only on the grain's thread.
/// </summary>
internal sealed class ModelJob(string id, string kind)
{
    /// <summary>Watchers hear at least this often while a step runs, so a silent job is never mistaken for a dead one.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<JobEvent> _events = new();
    private readonly CancellationTokenSource _cancel = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _stage = "starting";
    private int _done;
    private int _total;

    public string Id { get; } = id;

    public string Kind { get; } = kind;

    public JobState State { get; private set; } = JobState.Running;

    public string? Error { get; private set; }

    public CancellationToken Cancellation => _cancel.Token;

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Report(JobEvent e)
    {
        var logged = e with { Sequence = _events.Count, ElapsedSeconds = _clock.Elapsed.TotalSeconds };
        _events.Add(logged);
        (_stage, _done, _total) = (logged.Stage, logged.Done, logged.Total);
        Signal();
    }

    public void Cancel() => _cancel.Cancel();

    /// <summary>Ends the job: "done", or "failed"/"cancelled" with what went wrong.</summary>
    public void End(JobState state, string? message = null)
    {
        if (State != JobState.Running)
        {
            return;
        }

        _clock.Stop();
        Report(new JobEvent(state switch { JobState.Succeeded => "done", JobState.Cancelled => "cancelled", _ => "failed" }, _done, _total, 0, Message: message));
        State = state;
        Error = state == JobState.Succeeded ? null : message;
        Signal();
    }

    public JobInfo Info() => new(Id, Kind, State, _stage, _done, _total, _clock.Elapsed.TotalSeconds, Error, _events.Count);

    /// <summary>Events from <paramref name="from"/> on, then live ones until the job ends, with a heartbeat between.</summary>
    public async IAsyncEnumerable<JobEvent> Watch(int from, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        int next = Math.Max(0, from);
        while (true)
        {
            while (next < _events.Count)
            {
                yield return _events[next++];
            }

            if (State != JobState.Running)
            {
                yield break;
            }

            var changed = _changed.Task;
            if (await Task.WhenAny(changed, Task.Delay(Heartbeat, cancellation)) != changed)
            {
                cancellation.ThrowIfCancellationRequested();
                yield return new JobEvent("heartbeat", _done, _total, _clock.Elapsed.TotalSeconds, Message: _stage);
            }
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
