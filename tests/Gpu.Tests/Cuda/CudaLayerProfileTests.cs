using System.Diagnostics;
using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Benchmarks;
using OrleansQuant.Model.Inference;
using Xunit.Abstractions;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// Where one Llama-3-8B-shaped decoder layer's time goes on the GPU, kernel by kernel (<see cref="KernelProfile"/>):
/// prefill of 2048 tokens and decode of 1 and 64 sequences at 1024 context, W8A8 and bf16. Printed, not asserted: what
/// the next optimisation should aim at. "launch gaps" is the wall time of the step minus the GPU time of its kernels.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaLayerProfileTests(CudaFixture devices, ITestOutputHelper output) : IClassFixture<CudaFixture>
{
    [GpuFact]
    public void WhereALayersTimeGoes()
    {
        var gpu = devices.Gpu;
        using var bench = LayerBenchmarks.Build(gpu, BenchmarkShapes.Llama3_8B);
        foreach (var (name, layer) in new[] { ("W8A8", bench.W8A8), ("bf16", bench.FullPrecision) })
        {
            var random = new Random(3);
            using var prompt = gpu.UploadFloats(Compare.Floats(random, 2048 * 4096, 1f), 2048, 4096, layer.ActivationType);
            Profile($"{name} prefill 2048", () =>
            {
                layer.Forward(prompt, ForwardBatch.Single(1, 2048));
                layer.EndSequence(1);
            });

            foreach (int batch in new[] { 1, 64 })
            {
                var ids = Enumerable.Range(10, batch).Select(i => (long)i).ToArray();
                layer.ReserveKvCache(batch, 1100);
                using var context = gpu.UploadFloats(Compare.Floats(random, 1024 * 4096, 1f), 1024, 4096, layer.ActivationType);
                foreach (long id in ids)
                {
                    layer.Forward(context, ForwardBatch.Single(id, 1024));
                }

                using var step = gpu.UploadFloats(Compare.Floats(random, batch * 4096, 1f), batch, 4096, layer.ActivationType);
                int position = 1024;
                Profile($"{name} decode {batch} × 1024", () =>
                {
                    layer.Forward(step, new ForwardBatch(ids.Select(id => new SequenceChunk(id, position, 1)).ToArray()));
                    position++;
                });
                foreach (long id in ids)
                {
                    layer.EndSequence(id);
                }
            }
        }
    }

    // Three warm-up runs, then one profiled run and, without the profile's events, ten timed ones.
    private void Profile(string what, Action step)
    {
        var gpu = devices.Gpu;
        for (int i = 0; i < 3; i++)
        {
            step();
        }

        gpu.Synchronize();
        IReadOnlyList<(string Kernel, int Calls, double Milliseconds)> totals;
        using (var profile = gpu.StartProfile())
        {
            step();
            totals = profile.Totals();
        }

        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++)
        {
            step();
        }

        gpu.Synchronize();
        double wall = clock.Elapsed.TotalMilliseconds / 10, busy = totals.Sum(t => t.Milliseconds);
        Print($"PROFILE {what}: {wall:F3} ms a step (wall), {busy:F3} ms of kernels, {wall - busy:F3} ms launch gaps, {totals.Sum(t => t.Calls)} launches");
        foreach (var (kernel, calls, milliseconds) in totals.OrderByDescending(t => t.Milliseconds))
        {
            Print($"PROFILE   {milliseconds,8:F3} ms {calls,3}× {kernel}");
        }
    }

    private void Print(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
