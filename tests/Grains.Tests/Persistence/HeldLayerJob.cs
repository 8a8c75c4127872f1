namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// Holds one model's layer the first time it reaches a step of a job — a GPTQ build at its first linear, or the
/// writing of its shard of a save — through the store cluster's fault injector, until disposed, so a test can kill the
/// layer's silo while the model's job waits on it. Released, the held step fails instead of going on: its silo is dead
/// by then, and a step that went on would write to the store or the save's directory beside the job's next attempt.
/// </summary>
internal sealed class HeldLayerJob : IDisposable
{
    public enum Step
    {
        Build,
        WriteShard,
    }

    private static HeldLayerJob? s_current;

    private readonly string _model;
    private readonly int _layer;
    private readonly Step _step;
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _released = new();
    private int _taken;

    public HeldLayerJob(string model, int layer, Step step)
    {
        (_model, _layer, _step) = (model, layer, step);
        if (Interlocked.CompareExchange(ref s_current, this, null) is not null)
        {
            throw new InvalidOperationException("one held layer job at a time");
        }
    }

    /// <summary>Completes when the held step has been reached and waits.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Called by the fault injector before each step of every layer job.</summary>
    public static void Before(string model, int layer, Step step, CancellationToken cancellation)
    {
        if (Volatile.Read(ref s_current) is not { } held || held._model != model || held._layer != layer || held._step != step
            || Interlocked.Exchange(ref held._taken, 1) == 1)
        {
            return;
        }

        held._reached.TrySetResult();
        held._released.Wait(TimeSpan.FromMinutes(5), cancellation);
        throw new OperationCanceledException($"the held {step} of {model} layer {layer} was released; its silo is gone");
    }

    public void Dispose()
    {
        Interlocked.CompareExchange(ref s_current, null, this);
        _released.Set();
    }
}
