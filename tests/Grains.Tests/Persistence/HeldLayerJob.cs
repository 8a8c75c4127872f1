namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// Holds one model's layer the first time it reaches a step of a job — loading its weights, a GPTQ build at its first
/// linear, or the writing of its shard of a save — through the store cluster's fault injector, until disposed, so a
/// test can kill the layer's silo while the model's job waits on it. The layer is named by its index, or, when the test
/// cannot know which layer will land where (a load plans as it goes), by the silos it may run on: the first to get there.
/// From then on every step of that kind on the held layer's silo waits too, as nothing on a killed process goes on. Released, the held step fails instead of going on: its silo is dead
/// by then, and a step that went on would write to the store or the save's directory beside the job's next attempt.
/// </summary>
internal sealed class HeldLayerJob : IDisposable
{
    public enum Step
    {
        Load,
        Build,
        WriteShard,
    }

    private static HeldLayerJob? s_current;

    private readonly string _model;
    private readonly int? _layer;
    private readonly IReadOnlySet<string>? _silos;
    private readonly Step _step;
    private readonly TaskCompletionSource<(int, string)> _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _released = new();
    private string? _heldSilo;

    public HeldLayerJob(string model, int layer, Step step) : this(model, layer, null, step)
    {
    }

    public HeldLayerJob(string model, IReadOnlySet<string> silos, Step step) : this(model, null, silos, step)
    {
    }

    private HeldLayerJob(string model, int? layer, IReadOnlySet<string>? silos, Step step)
    {
        (_model, _layer, _silos, _step) = (model, layer, silos, step);
        if (Interlocked.CompareExchange(ref s_current, this, null) is not null)
        {
            throw new InvalidOperationException("one held layer job at a time");
        }
    }

    /// <summary>Completes with the held layer's index and silo when its step has been reached and waits.</summary>
    public Task<(int Layer, string Silo)> Reached => _reached.Task;

    /// <summary>Called by the fault injector of silo <paramref name="silo"/> before each step of every layer job there.</summary>
    public static void Before(string model, int layer, Step step, string silo, CancellationToken cancellation)
    {
        if (Volatile.Read(ref s_current) is not { } held || held._model != model || held._step != step)
        {
            return;
        }

        // Once one step is held, every later step of the kind on that silo is held too: an in-process silo that the
        // test kills keeps its threads, and a dead process would not write a shard after its death.
        bool first = (held._layer is not int wanted || wanted == layer) && (held._silos is not { } allowed || allowed.Contains(silo))
            && Interlocked.CompareExchange(ref held._heldSilo, silo, null) is null;
        if (!first && Volatile.Read(ref held._heldSilo) != silo)
        {
            return;
        }

        if (first)
        {
            held._reached.TrySetResult((layer, silo));
        }

        held._released.Wait(TimeSpan.FromMinutes(5), cancellation);
        throw new OperationCanceledException($"the held {step} of {model} layer {layer} was released; its silo is gone");
    }

    public void Dispose()
    {
        Interlocked.CompareExchange(ref s_current, null, this);
        _released.Set();
    }
}
