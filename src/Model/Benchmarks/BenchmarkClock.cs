using System.Diagnostics;
using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// Wall-clock timing of device work: <see cref="Warmup"/> untimed calls, then a stopwatch around
/// <see cref="Iterations"/> calls, stopped only after <see cref="IComputeDevice.Synchronize"/>, because a GPU device
/// returns from a kernel call as soon as the kernel is queued. The result is the mean time of one call, in ms.
/// </summary>
public sealed record BenchmarkClock(int Warmup, int Iterations)
{
    /// <param name="iteration">one call; its argument counts calls from 0, warm-up included.</param>
    public double Measure(IComputeDevice device, Action<int> iteration)
    {
        for (int i = 0; i < Warmup; i++)
        {
            iteration(i);
        }

        // What the warm-up queued must not be billed to the timed calls.
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Iterations; i++)
        {
            iteration(Warmup + i);
        }

        device.Synchronize();
        return clock.Elapsed.TotalMilliseconds / Iterations;
    }

    public void Validate()
    {
        if (Iterations < 1)
        {
            throw new ArgumentException($"--iterations {Iterations}: expected at least 1");
        }

        if (Warmup < 0)
        {
            throw new ArgumentException($"--warmup {Warmup}: expected 0 or more");
        }
    }
}
