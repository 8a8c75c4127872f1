using System.Collections.Concurrent;

namespace OrleansQuant.Gpu;

/// <summary>
/// The device's stream, as a host thread: work items run one after another, in the order they were queued, the way
/// kernels run on a CUDA stream. Callers await the result instead of blocking, so an actor that owns a layer on this
/// device gives its scheduler thread back while the device works, and several devices work at the same time.
/// </summary>
public sealed class DeviceWorker : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;
    private readonly CpuComputeBudget? _budget;
    private readonly int _units;

    /// <param name="budget">the cores this device shares with others; null when it has compute of its own.</param>
    /// <param name="units">the cores each item needs: the device's threads (clamped to the budget).</param>
    public DeviceWorker(string name, CpuComputeBudget? budget = null, int units = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        _budget = budget;
        _units = budget is null ? units : Math.Min(units, budget.Cores);
        _thread = new Thread(Drain) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="work"/> behind everything queued before it.</summary>
    public Task<T> Run<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception error)
            {
                completion.SetException(error);
            }
        });
        return completion.Task;
    }

    public Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    private void Drain()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            // One lease per item, not per queue: a device with a long queue gives the cores back between items,
            // so the others' items interleave with its own in arrival order.
            using var lease = _budget?.Acquire(_units);
            item();
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _queue.Dispose();
    }
}
