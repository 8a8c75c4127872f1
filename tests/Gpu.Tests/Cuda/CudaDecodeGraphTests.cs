using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Benchmarks;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// Decode steps replayed as CUDA graphs (<see cref="CudaDevice.StepGraphs"/>) against the same steps launched kernel by
/// kernel, bit for bit: two W8A8 layers built alike from the same random weights (heads of 64 in groups of 4, so
/// attention runs the flash-decoding kernel whose grid the context bucket sizes), one stepped with graphs on, one off.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaDecodeGraphTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    private static readonly BenchmarkShapes s_shapes = BenchmarkShapes.Tiny with
    {
        Name = "graph-test",
        Hidden = 512,
        Intermediate = 1024,
        Heads = 8,
        KvHeads = 2,
        HeadDim = 64,
    };

    [GpuTheory]
    // Two sequences: the fused int8 GEMV. Twelve: the int8 GEMM (cuBLASLt or the own tensor-core kernel).
    [InlineData(2)]
    [InlineData(12)]
    public void GraphStepsEqualLaunchedStepsBitForBit(int sequences)
    {
        var gpu = devices.Gpu;
        using var eager = LayerBenchmarks.Build(gpu, s_shapes, seed: 1);
        using var graphed = LayerBenchmarks.Build(gpu, s_shapes, seed: 1);
        using var newEager = LayerBenchmarks.Build(gpu, s_shapes, seed: 2);
        using var newGraphed = LayerBenchmarks.Build(gpu, s_shapes, seed: 2);
        var (a, b) = (eager.W8A8, graphed.W8A8);
        var random = new Random(11);
        int graphsBefore = gpu.LiveStepGraphs;

        void Step(ForwardBatch batch, string what)
        {
            var input = Compare.Floats(random, batch.TokenCount * s_shapes.Hidden);
            using var x = gpu.UploadFloats(input, batch.TokenCount, s_shapes.Hidden, a.ActivationType);
            using var y = gpu.UploadFloats(input, batch.TokenCount, s_shapes.Hidden, b.ActivationType);
            try
            {
                gpu.StepGraphs = false;
                a.Forward(x, batch);
                gpu.StepGraphs = true;
                b.Forward(y, batch);
            }
            finally
            {
                gpu.StepGraphs = true;
            }

            Compare.SameBits(x.ToFloats(), y.ToFloats(), $"{sequences} sequences, {what}");
        }

        // Sequence 0 starts 3 positions before the first context bucket (256) ends, so its steps cross into the next;
        // the others are short and of different lengths.
        var lengths = Enumerable.Range(0, sequences).Select(s => s == 0 ? 253 : 5 + 7 * s).ToArray();
        Step(new ForwardBatch([.. lengths.Select((length, s) => new SequenceChunk(s, 0, length))]), "prefill");
        ForwardBatch Decode(IEnumerable<long> ids) => new([.. ids.Select(id => new SequenceChunk(id, lengths[id], 1))]);
        void Advance(IEnumerable<long> ids)
        {
            foreach (long id in ids)
            {
                lengths[id]++;
            }
        }

        var live = Enumerable.Range(0, sequences).Select(s => (long)s).ToList();
        for (int t = 0; t < 8; t++)
        {
            Step(Decode(live), $"decode step {t} (context {lengths[0] + 1})");
            Advance(live);
        }

        Assert.True(gpu.LiveStepGraphs > graphsBefore, $"no graph was recorded; last capture failure: {gpu.LastCaptureFailure}");

        // The last sequence ends and a new one joins (its prefill launched as usual); the batch decodes on.
        long gone = live[^1], joined = sequences;
        a.EndSequence(gone);
        b.EndSequence(gone);
        live.Remove(gone);
        Array.Resize(ref lengths, sequences + 1);
        lengths[joined] = 21;
        Step(ForwardBatch.Single(joined, 21), "prefill of a joining sequence");
        live.Add(joined);
        for (int t = 0; t < 4; t++)
        {
            Step(Decode(live), $"decode step {t} after a join");
            Advance(live);
        }

        // New weights, swapped between layers so each is still owned once: the graphs of the old ones must not replay.
        newEager.W8A8.SwapWeights(a.SwapWeights(newEager.W8A8.Weights));
        newGraphed.W8A8.SwapWeights(b.SwapWeights(newGraphed.W8A8.Weights));
        for (int t = 0; t < 4; t++)
        {
            Step(Decode(live), $"decode step {t} after a weight swap");
            Advance(live);
        }

        Assert.Null(gpu.LastCaptureFailure);
    }

    [GpuFact]
    public void NoGraphIsRecordedWhileAProfileTimesTheKernels()
    {
        var gpu = devices.Gpu;
        using var bench = LayerBenchmarks.Build(gpu, s_shapes, seed: 3);
        var layer = bench.W8A8;
        using var prompt = gpu.Allocate(layer.ActivationType, 10, s_shapes.Hidden);
        using var rows = gpu.Allocate(layer.ActivationType, 1, s_shapes.Hidden);
        layer.Forward(prompt, ForwardBatch.Single(1, 10));
        int before = gpu.LiveStepGraphs;
        using (var profile = gpu.StartProfile())
        {
            for (int t = 0; t < 4; t++)
            {
                layer.Forward(rows, new ForwardBatch([new SequenceChunk(1, 10 + t, 1)]));
            }

            Assert.Equal(before, gpu.LiveStepGraphs);
            Assert.Contains(profile.Totals(), total => total.Kernel.StartsWith("paged_decode", StringComparison.Ordinal));
        }

        for (int t = 0; t < 2; t++)
        {
            layer.Forward(rows, new ForwardBatch([new SequenceChunk(1, 14 + t, 1)]));
        }

        Assert.Equal(before + 1, gpu.LiveStepGraphs);
    }

    [GpuFact]
    public void DisposingTheDeviceDestroysItsGraphs()
    {
        var gpu = new CudaDevice(0);
        var bench = LayerBenchmarks.Build(gpu, s_shapes, seed: 4);
        try
        {
            using var prompt = gpu.Allocate(bench.W8A8.ActivationType, 10, s_shapes.Hidden);
            using var rows = gpu.Allocate(bench.W8A8.ActivationType, 1, s_shapes.Hidden);
            bench.W8A8.Forward(prompt, ForwardBatch.Single(1, 10));
            for (int t = 0; t < 3; t++)
            {
                bench.W8A8.Forward(rows, new ForwardBatch([new SequenceChunk(1, 10 + t, 1)]));
            }

            Assert.Equal(1, gpu.LiveStepGraphs);
        }
        finally
        {
            gpu.Dispose();
        }

        Assert.Equal(0, gpu.LiveStepGraphs);
        bench.Dispose(); // after the device: its graphs are gone already, its tensors' frees are no-ops
    }
}
