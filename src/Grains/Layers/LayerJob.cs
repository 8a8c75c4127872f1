using System.Diagnostics;
using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Layers;

/// <summary>
/// A layer grain's long work — loading its tensors, building quantized weights, writing its checkpoint shard — running
/// in the background while the
/// grain keeps answering calls. The grain starts it and returns; its coordinator asks <see cref="Wait"/> for a bounded
/// time, again and again, so no call lasts longer than that however long the work takes.
/// </summary>
internal sealed class LayerJob
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _cancel = new();
    private int _done;
    private volatile string? _error;
    private volatile object? _result;

    private LayerJob(string kind, int total)
    {
        Kind = kind;
        Total = total;
    }

    public string Kind { get; }

    public int Total { get; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public bool IsRunning => !Completion.IsCompleted;

    /// <summary>
    /// Starts <paramref name="work"/> in the caller's context (the grain's, so what it does after an await is a turn of
    /// the grain). A cancellation ends the job cancelled, any other exception failed with its message.
    /// </summary>
    public static LayerJob Start(string kind, int total, Func<LayerJob, CancellationToken, Task<object?>> work)
    {
        var job = new LayerJob(kind, total);
        job.Completion = job.Run(work);
        return job;
    }

    /// <summary>One more unit (a linear) of <see cref="Total"/> done.</summary>
    public void Advance() => Interlocked.Increment(ref _done);

    public void Cancel() => _cancel.Cancel();

    public async Task<LayerJobStatus> Wait(TimeSpan wait)
    {
        await Task.WhenAny(Completion, Task.Delay(wait));
        return Status();
    }

    public LayerJobStatus Status()
    {
        var state = !Completion.IsCompleted ? JobState.Running
            : Completion.IsCanceled ? JobState.Cancelled
            : _error is not null ? JobState.Failed
            : JobState.Succeeded;
        return new LayerJobStatus(Kind, state, _clock.Elapsed.TotalSeconds, Volatile.Read(ref _done), Total, _error, _result as LayerBuildReport, _result as LayerShard);
    }

    private async Task Run(Func<LayerJob, CancellationToken, Task<object?>> work)
    {
        try
        {
            _result = await work(this, _cancel.Token);
        }
        catch (Exception error) when (_cancel.IsCancellationRequested)
        {
            // Asked to stop: however the work ended, it ends cancelled, and the grain applied nothing.
            throw error as OperationCanceledException ?? new OperationCanceledException(error.Message, error, _cancel.Token);
        }
        catch (Exception error)
        {
            _error = error.Message;
        }
        finally
        {
            _clock.Stop();
        }
    }
}
