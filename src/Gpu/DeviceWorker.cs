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

    public DeviceWorker(string name)
    {
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
