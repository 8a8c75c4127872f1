using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Tests.Inference;

/// <summary>
/// The bookkeeping of recorded decode steps (<see cref="DecodeGraphs"/>) on the CPU, where a stand-in records a step
/// by keeping its closure and replays it by calling it again: a replay then computes with exactly what the recording
/// captured (its buffers, its weights), as a GPU graph would, so a stale recording shows as a wrong result.
/// The GPU's own graphs are tested in CudaDecodeGraphTests.
/// </summary>
public sealed class DecodeGraphsTests
{
    [Theory]
    [InlineData(1, 2048, 256)]
    [InlineData(256, 2048, 256)]
    [InlineData(257, 2048, 512)]
    [InlineData(1000, 2048, 1024)]
    [InlineData(1025, 2048, 2048)]
    [InlineData(2048, 2048, 2048)]
    [InlineData(300, 400, 400)]
    [InlineData(100, 100, 100)]
    public void AContextBucketIsTheNextPowerOfTwoFrom256UpToTheModelsContext(int context, int modelContext, int bucket) =>
        Assert.Equal(bucket, ContextBucket.Of(context, modelContext));

    [Fact]
    public void ADecodeStepReportsItsBucketAndBlockTablesThatWide()
    {
        using var device = new CpuDevice();
        using var cache = new PagedKvCache(device, 8, maxSequenceLength: 2048);
        cache.Extend(1, 20);
        cache.Extend(2, 300);

        var decode = StepPlan.Reserve(new ForwardBatch([new SequenceChunk(1, 20, 1), new SequenceChunk(2, 300, 1)]), cache);
        Assert.Equal(512, decode.MaxContextLength);
        Assert.Equal(KvCacheSize.Blocks(512), decode.BlockTableWidth);
        Assert.Equal([21, 301], decode.ContextLengths);
        Assert.Equal(-1, decode.BlockTables[KvCacheSize.Blocks(21)]); // past sequence 1's blocks

        // A step with a prefill chunk reports its real longest context.
        var mixed = StepPlan.Reserve(new ForwardBatch([new SequenceChunk(1, 21, 1), new SequenceChunk(3, 0, 5)]), cache);
        Assert.Equal(22, mixed.MaxContextLength);
        Assert.Equal(KvCacheSize.Blocks(22), mixed.BlockTableWidth);
    }

    [Fact]
    public void RecordedDecodeStepsEqualStepsRunAsUsual()
    {
        using var device = new CpuDevice();
        var config = DemoModels.Tiny.Config;
        using var plain = NewLayer(device, weightsOf: 1);
        using var recorded = NewLayer(device, weightsOf: 1);
        var graphs = HostGraphs.Install(recorded);
        var random = new Random(5);

        void Step(ForwardBatch batch, string what)
        {
            var input = Floats(random, batch.TokenCount * config.HiddenSize);
            using var a = device.UploadNew<float>(input, batch.TokenCount, config.HiddenSize);
            using var b = device.UploadNew<float>(input, batch.TokenCount, config.HiddenSize);
            plain.Forward(a, batch);
            recorded.Forward(b, batch);
            Assert.True(a.ToArray<float>().SequenceEqual(b.ToArray<float>()), $"hidden rows differ after {what}");
        }

        // Sequence 1 starts 4 positions short of the first bucket's end, so its decode steps cross into the next one.
        Step(new ForwardBatch([new SequenceChunk(1, 0, 252), new SequenceChunk(2, 0, 9)]), "prefill");
        for (int t = 0; t < 8; t++)
        {
            Step(new ForwardBatch([new SequenceChunk(1, 252 + t, 1), new SequenceChunk(2, 9 + t, 1)]), $"decode step {t}");
        }

        Assert.True(graphs.Recordings >= 2, $"{graphs.Recordings} recordings: one per bucket expected");
        Assert.True(graphs.Replays > 0, "no step was replayed");

        // Sequence 2 ends and sequence 3 joins (its prefill runs as usual), then both decode on.
        plain.EndSequence(2);
        recorded.EndSequence(2);
        Step(ForwardBatch.Single(3, 30), "prefill of a joining sequence");
        for (int t = 0; t < 4; t++)
        {
            Step(new ForwardBatch([new SequenceChunk(3, 30 + t, 1), new SequenceChunk(1, 260 + t, 1)]), $"decode step {t} after a join");
        }

        // New weights: the recordings of the old ones must not replay.
        int before = graphs.Recordings;
        plain.SwapWeights(Weights(device, layer: 2)).Dispose();
        recorded.SwapWeights(Weights(device, layer: 2)).Dispose();
        Assert.Equal(0, recorded.DecodeGraphs.Count);
        for (int t = 0; t < 4; t++)
        {
            Step(new ForwardBatch([new SequenceChunk(3, 34 + t, 1), new SequenceChunk(1, 264 + t, 1)]), $"decode step {t} after a weight swap");
        }

        Assert.True(graphs.Recordings > before, "no recording was made of the new weights");
    }

    [Fact]
    public void AShapeIsRunOnceThenRecordedThenReplayedAndTheRecordingsGoWithThePool()
    {
        using var device = new CpuDevice();
        using var layer = NewLayer(device, weightsOf: 1);
        var graphs = HostGraphs.Install(layer);
        int hidden = DemoModels.Tiny.Config.HiddenSize;
        using var rows = device.Allocate(TensorType.Float32, 1, hidden);
        int position = 0;
        void Decode() => layer.Forward(rows, new ForwardBatch([new SequenceChunk(1, position, 1)]), observer: null);

        layer.ReserveKvCache(1, 48);
        Decode();
        position++;
        Assert.Equal((1, 0, 0L), (layer.DecodeGraphs.Count, graphs.Recordings, graphs.Replays)); // warm-up, as usual
        Decode();
        position++;
        Assert.Equal((1, 1, 0L), (layer.DecodeGraphs.Count, graphs.Recordings, graphs.Replays)); // recorded (and run)
        Decode();
        position++;
        Assert.Equal((1, 1, 1L), (layer.DecodeGraphs.Count, graphs.Recordings, graphs.Replays)); // replayed

        // Calibration steps (an observer, or weights beside the serving ones) never go through a recording.
        using var other = Weights(device, layer: 2);
        layer.Forward(rows, new ForwardBatch([new SequenceChunk(1, position++, 1)]), weights: other);
        Assert.Equal((1, 1, 1L), (layer.DecodeGraphs.Count, graphs.Recordings, graphs.Replays));

        // The pool held 64 positions (its initial 4 blocks); position 64 makes it grow, which moves the cache.
        while (position < 64)
        {
            Decode();
            position++;
        }

        long replays = graphs.Replays;
        Assert.True(replays > 1, "the steps before the growth replayed");
        Decode();
        Assert.Equal((1, 1, replays), (layer.DecodeGraphs.Count, graphs.Recordings, graphs.Replays)); // a new warm-up, no replay
    }

    private static DecoderLayer NewLayer(IComputeDevice device, int weightsOf) =>
        new(1, DemoModels.Tiny.Config, Weights(device, weightsOf), device);

    private static DecoderLayerWeights Weights(IComputeDevice device, int layer)
    {
        using var checkpoint = CheckpointReader.Open(TestModels.Directory(DemoModels.Tiny));
        return DecoderLayerWeights.Load(new WeightLoader(checkpoint, device, WeightPrecision.Float32), DemoModels.Tiny.Config, layer);
    }

    private static float[] Floats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    /// <summary>Stands in for a GPU's graphs: a recording is the step's closure, a replay calls it again.</summary>
    private sealed class HostGraphs
    {
        public int Recordings { get; private set; }

        public long Replays { get; private set; }

        public static HostGraphs Install(DecoderLayer layer)
        {
            var graphs = new HostGraphs();
            layer.DecodeGraphs.Captures = () => true;
            layer.DecodeGraphs.Capture = step =>
            {
                step();
                graphs.Recordings++;
                return new Graph(graphs, step);
            };
            return graphs;
        }

        private sealed class Graph(HostGraphs owner, Action step) : IStepGraph
        {
            private bool _disposed;

            public void Launch()
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                owner.Replays++;
                step();
            }

            public void Dispose() => _disposed = true;
        }
    }
}
