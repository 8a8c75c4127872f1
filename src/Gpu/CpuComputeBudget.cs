namespace OrleansQuant.Gpu;

/// <summary>
/// The machine's cores as one budget that every CPU device in the process draws from. CPU devices are slices of the
/// same cores, so without it <c>cpu:4</c> on a two-core machine would run four workers at once and each kernel's
/// <see cref="Parallel"/> fan-out would fight the others for the same cores. Requests are granted strictly in
/// arrival order: a wide request at the head is not overtaken by narrow ones behind it, so no device starves.
/// (<see cref="SemaphoreSlim"/> would not do: it neither grants in order nor hands out several units at once.)
/// </summary>
public sealed class CpuComputeBudget
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private int _available;

    /// <param name="cores">units in the budget, one per core the work may use.</param>
    public CpuComputeBudget(int cores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        Cores = cores;
        _available = cores;
    }

    /// <summary>
    /// This process's cores. <see cref="Environment.ProcessorCount"/> honours the affinity mask (checked on .NET 10:
    /// under <c>taskset -c 0</c> it is 1), so a silo pinned to some cores budgets only those.
    /// </summary>
    public static CpuComputeBudget Process { get; } = new(Environment.ProcessorCount);

    public int Cores { get; }

    public int Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <summary>Requests queued behind the ones running; what a test watches to know a request is waiting.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>
    /// Threads for device <paramref name="ordinal"/> of <paramref name="devices"/> splitting this budget: an even share,
    /// the remainder going to the first devices so the shares add up to every core, and at least one each. With more
    /// devices than cores each gets one thread and their work queues here instead of oversubscribing.
    /// </summary>
    public int ShareOf(int ordinal, int devices)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return Math.Max(1, Cores / devices + (ordinal < Cores % devices ? 1 : 0));
    }

    /// <summary>Blocks until <paramref name="units"/> cores (at most <see cref="Cores"/>) are granted, in arrival order.</summary>
    public CpuComputeLease Acquire(int units, CancellationToken cancellation = default)
    {
        var pending = AcquireAsync(units, cancellation);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Completes when <paramref name="units"/> cores (at most <see cref="Cores"/>) are granted, in arrival order.</summary>
    public ValueTask<CpuComputeLease> AcquireAsync(int units, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        units = Math.Min(units, Cores);
        cancellation.ThrowIfCancellationRequested();
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_waiting.Count == 0 && _available >= units)
            {
                _available -= units;
                return ValueTask.FromResult(new CpuComputeLease(this, units));
            }

            node = _waiting.AddLast(new Waiter(units));
        }

        if (cancellation.CanBeCanceled)
        {
            var registration = cancellation.Register(() => Cancel(node, cancellation));
            node.Value.Completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }

        return new ValueTask<CpuComputeLease>(node.Value.Completion.Task);
    }

    internal void Release(int units)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            _available += units;
            granted = GrantFromHead();
        }

        foreach (var waiter in granted)
        {
            waiter.Completion.SetResult(new CpuComputeLease(this, waiter.Units));
        }
    }

    private void Cancel(LinkedListNode<Waiter> node, CancellationToken cancellation)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            // Already granted: the lease is the caller's and is released by disposing it.
            if (node.List is null)
            {
                return;
            }

            _waiting.Remove(node);

            // A wide request leaving the head may let the narrower ones behind it run now.
            granted = GrantFromHead();
        }

        node.Value.Completion.SetCanceled(cancellation);
        foreach (var waiter in granted)
        {
            waiter.Completion.SetResult(new CpuComputeLease(this, waiter.Units));
        }
    }

    // Callers hold _gate; completions are set outside it, and run their continuations elsewhere.
    private List<Waiter> GrantFromHead()
    {
        var granted = new List<Waiter>();
        while (_waiting.First is { } head && head.Value.Units <= _available)
        {
            _available -= head.Value.Units;
            _waiting.RemoveFirst();
            granted.Add(head.Value);
        }

        return granted;
    }

    private sealed class Waiter(int units)
    {
        public int Units { get; } = units;

        public TaskCompletionSource<CpuComputeLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
