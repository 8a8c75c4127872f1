using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// Workers of CPU devices that share a budget: never more items running than the budget has cores, observed while
/// they run, and queued items of different devices start in the order they asked for cores.
/// </summary>
public sealed class DeviceWorkerBudgetTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FourDevicesOnTwoCoresRunAtMostTwoItemsAtOnce()
    {
        var budget = new CpuComputeBudget(2);
        var workers = Enumerable.Range(0, 4).Select(i => new DeviceWorker($"test-cpu:{i}", budget, budget.ShareOf(i, 4))).ToArray();
        int running = 0, most = 0, done = 0;
        try
        {
            var items = workers.SelectMany(w => Enumerable.Range(0, 20).Select(_ => w.Run(() =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                Thread.Sleep(2);
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref done);
            }))).ToArray();
            await Task.WhenAll(items).WaitAsync(Patience);
        }
        finally
        {
            Array.ForEach(workers, w => w.Dispose());
        }

        Assert.Equal(80, done);
        Assert.Equal(2, most);
        Assert.Equal(2, budget.Available);
    }

    [Fact]
    public async Task QueuedItemsOfDifferentDevicesStartInArrivalOrder()
    {
        var budget = new CpuComputeBudget(1);
        using var a = new DeviceWorker("test-a", budget);
        using var b = new DeviceWorker("test-b", budget);
        using var c = new DeviceWorker("test-c", budget);
        using var release = new ManualResetEventSlim();
        var started = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var first = a.Run(() => release.Wait(Patience));
        await WaitUntil(() => budget.Available == 0);
        var second = b.Run(() => started.Enqueue("b"));
        await WaitUntil(() => budget.Waiting == 1);
        var third = c.Run(() => started.Enqueue("c"));
        await WaitUntil(() => budget.Waiting == 2);
        Assert.Empty(started);

        release.Set();
        await Task.WhenAll(first, second, third).WaitAsync(Patience);
        Assert.Equal(["b", "c"], started);
    }

    [Fact]
    public async Task AWorkerHoldsItsDevicesShareOfTheBudgetWhileItRuns()
    {
        var budget = new CpuComputeBudget(4);
        using var device = new CpuDevice(0, 3);
        using var worker = new DeviceWorker("test", budget, device.Parallelism.MaxDegreeOfParallelism);
        int available = await worker.Run(() => budget.Available).WaitAsync(Patience);
        Assert.Equal(1, available);
        await WaitUntil(() => budget.Available == 4);
    }

    [Fact]
    public async Task AWorkerWithoutABudgetRunsItsItemsInOrder()
    {
        using var worker = new DeviceWorker("test");
        var order = new List<int>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => worker.Run(() => order.Add(i)))).WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 10), order);
    }

    [Fact]
    public void ACpuDeviceOffersItsThreadsAsParallelism()
    {
        using var device = new CpuDevice(1, 3);
        Assert.Equal(3, device.Parallelism.MaxDegreeOfParallelism);
        Assert.NotSame(device.Parallelism, device.Parallelism);
        Assert.Contains("3 threads", device.Info.Name);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(5);
        }
    }
}
