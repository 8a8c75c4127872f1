using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cuda;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// One <see cref="DecoderLayer"/> at a model's shapes, built twice from the same random weights: float linears, and
/// W8A8 linears rounded to nearest (what GPTQ would give costs the same to run). Prefill: one new sequence of T tokens
/// per call. Decode: one token for each of B sequences whose caches hold the context. Call on the device's own worker.
/// </summary>
public sealed class LayerBenchmarks : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly BenchmarkShapes _shapes;
    private readonly DecoderLayer _fp;
    private readonly DecoderLayer _w8a8;
    private long _nextSequence;

    private LayerBenchmarks(IComputeDevice device, BenchmarkShapes shapes, DecoderLayer fp, DecoderLayer w8a8)
    {
        _device = device;
        _shapes = shapes;
        _fp = fp;
        _w8a8 = w8a8;
    }

    public static LayerBenchmarks Build(IComputeDevice device, BenchmarkShapes shapes, int seed = 0)
    {
        var config = shapes.LayerConfig();
        var fp = new Dictionary<LinearSlot, Linear>();
        var w8a8 = new Dictionary<LinearSlot, Linear>();
        try
        {
            for (int s = 0; s < LinearSlot.All.Count; s++)
            {
                var slot = LinearSlot.All[s];
                var (rows, columns) = Shape(slot, shapes);
                var weights = RandomValues.Uniform((long)rows * columns, 1 / MathF.Sqrt(columns), seed + s);
                // The full-precision layer is stored as a served model would be on this device (bf16 on a GPU).
                var floats = device.UploadFloats(weights, rows, columns, WeightPrecision.Auto.StorageOn(device));
                fp[slot] = new FloatLinear(floats, bias: null);

                // Round-to-nearest on the device, from a double copy of the same weights.
                using var wide = DeviceCopies.Widen(device, floats);
                var q = RoundToNearest.Quantize(device, wide);
                w8a8[slot] = new Int8Linear(q.Values, q.Scales, bias: null);
            }

            var ones = Enumerable.Repeat(1f, shapes.Hidden).ToArray();
            // Activations and KV as a served bf16 model keeps them on this device (bf16 on a GPU).
            var kvType = WeightPrecision.Auto.StorageOn(device);
            var fpLayer = new DecoderLayer(0, config, DecoderLayerWeights.Build(device, ones, ones, slot => fp[slot]), device, kvType);
            var w8a8Layer = new DecoderLayer(0, config, DecoderLayerWeights.Build(device, ones, ones, slot => w8a8[slot]), device, kvType);
            return new LayerBenchmarks(device, shapes, fpLayer, w8a8Layer);
        }
        catch
        {
            foreach (var linear in fp.Values.Concat(w8a8.Values))
            {
                linear.Dispose();
            }

            throw;
        }
    }

    private static (int Rows, int Columns) Shape(LinearSlot slot, BenchmarkShapes shapes) => slot.Suffix switch
    {
        "self_attn.q_proj" => (shapes.QueryWidth, shapes.Hidden),
        "self_attn.k_proj" or "self_attn.v_proj" => (shapes.KvWidth, shapes.Hidden),
        "self_attn.o_proj" => (shapes.Hidden, shapes.QueryWidth),
        "mlp.gate_proj" or "mlp.up_proj" => (shapes.Intermediate, shapes.Hidden),
        "mlp.down_proj" => (shapes.Hidden, shapes.Intermediate),
        _ => throw new InvalidOperationException($"no benchmark shape for {slot.Suffix}"),
    };

    /// <summary>The full-precision layer (its weights stored as this device serves them: bf16 on a GPU).</summary>
    public DecoderLayer FullPrecision => _fp;

    /// <summary>The same layer with round-to-nearest W8A8 weights.</summary>
    public DecoderLayer W8A8 => _w8a8;

    /// <param name="copy">the device's measured copy bandwidth, for the decode floor.</param>
    public LayerFacts Facts(CopyResult copy) =>
        new(_fp.Weights.ByteLength, _w8a8.Weights.ByteLength, _w8a8.Weights.ByteLength / (copy.GigabytesPerSecond * 1e9) * 1e3);

    public PrefillResult Prefill(int tokens, BenchmarkClock clock, int seed = 0)
    {
        using var hidden = _device.UploadFloats(RandomValues.Uniform((long)tokens * _shapes.Hidden, 1, seed + tokens), tokens, _shapes.Hidden, _fp.ActivationType);
        return new PrefillResult(tokens, Prefill(_fp, hidden, clock), Prefill(_w8a8, hidden, clock));
    }

    // Each call is a new sequence (its cache made, filled and dropped, as a served prompt's would be). The residual
    // stream is updated in place, so calls see drifting inputs; the norms keep every product finite.
    private double Prefill(DecoderLayer layer, DeviceTensor hidden, BenchmarkClock clock) =>
        clock.Measure(_device, _ =>
        {
            long id = _nextSequence++;
            layer.Forward(hidden, ForwardBatch.Single(id, hidden.Rows));
            layer.EndSequence(id);
        });

    /// <summary>
    /// The timed steps run at positions context − iterations … context − 1 (warm-up steps before them), so the last
    /// leaves exactly <see cref="BenchmarkShapes.Context"/> tokens cached, and the paged cache's pool is sized for all
    /// of it before the prompts, so no step grows it (a copy of the whole pool) inside the timing.
    /// </summary>
    public DecodeResult Decode(int batch, BenchmarkClock clock, int seed = 0)
    {
        int context = _shapes.Context, start = context - clock.Iterations - clock.Warmup;
        if (start < 1)
        {
            throw new ArgumentException($"--context {context} leaves no prompt before {clock.Warmup} warm-up and {clock.Iterations} timed decode steps; expected a context above {clock.Warmup + clock.Iterations}");
        }

        using var prompt = _device.UploadFloats(RandomValues.Uniform((long)start * _shapes.Hidden, 1, seed + 1), start, _shapes.Hidden, _fp.ActivationType);
        using var step = _device.UploadFloats(RandomValues.Uniform((long)batch * _shapes.Hidden, 1, seed + 2), batch, _shapes.Hidden, _fp.ActivationType);
        return new DecodeResult(batch, context, Decode(_fp, prompt, step, clock), Decode(_w8a8, prompt, step, clock));
    }

    /// <summary>
    /// The W8A8 layer's decode (as <see cref="Decode(int, BenchmarkClock, int)"/>) with its steps launched kernel by kernel
    /// and replayed as CUDA graphs (<see cref="CudaDevice.StepGraphs"/>); null on a device without graphs. At least two
    /// warm-up steps, so the timed ones replay: a step shape's first run is its warm-up, its second is recorded.
    /// </summary>
    public DecodeGraphResult? DecodeGraphs(int batch, BenchmarkClock clock, int seed = 0)
    {
        if (_device is not CudaDevice cuda)
        {
            return null;
        }

        var warm = clock with { Warmup = Math.Max(clock.Warmup, 2) };
        int context = _shapes.Context, start = context - warm.Iterations - warm.Warmup;
        if (start < 1)
        {
            throw new ArgumentException($"--context {context} leaves no prompt before {warm.Warmup} warm-up and {warm.Iterations} timed decode steps; expected a context above {warm.Warmup + warm.Iterations}");
        }

        using var prompt = _device.UploadFloats(RandomValues.Uniform((long)start * _shapes.Hidden, 1, seed + 1), start, _shapes.Hidden, _w8a8.ActivationType);
        using var step = _device.UploadFloats(RandomValues.Uniform((long)batch * _shapes.Hidden, 1, seed + 2), batch, _shapes.Hidden, _w8a8.ActivationType);
        bool graphs = cuda.StepGraphs;
        try
        {
            cuda.StepGraphs = false;
            double launched = Decode(_w8a8, prompt, step, warm);
            cuda.StepGraphs = true;
            double replayed = Decode(_w8a8, prompt, step, warm);
            return new DecodeGraphResult(batch, context, launched, replayed);
        }
        finally
        {
            cuda.StepGraphs = graphs;
        }
    }

    private double Decode(DecoderLayer layer, DeviceTensor prompt, DeviceTensor step, BenchmarkClock clock)
    {
        int batch = step.Rows, start = prompt.Rows;
        var ids = Enumerable.Range(0, batch).Select(_ => _nextSequence++).ToArray();
        layer.ReserveKvCache(batch, _shapes.Context);
        try
        {
            // One prompt per sequence, not one batch of them all: B × context rows of MLP activations at once would
            // need gigabytes at 8B shapes.
            foreach (long id in ids)
            {
                layer.Forward(prompt, ForwardBatch.Single(id, start));
            }

            // The batches are made before the clock starts: the timing is the layer's, not the scheduler's.
            var steps = Enumerable.Range(0, clock.Warmup + clock.Iterations)
                .Select(i => new ForwardBatch(ids.Select(id => new SequenceChunk(id, start + i, 1)).ToArray()))
                .ToArray();
            return clock.Measure(_device, i => layer.Forward(step, steps[i]));
        }
        finally
        {
            foreach (long id in ids)
            {
                layer.EndSequence(id);
            }
        }
    }

    public void Dispose()
    {
        _fp.Dispose();
        _w8a8.Dispose();
    }
}
