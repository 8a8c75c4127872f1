using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// One decoder layer of a local model as the quantization engine drives it: its statistics while calibration passes,
/// and the weights a build made beside the serving ones until they are committed or discarded. Both hold device memory,
/// freed when the runner is disposed. The layer's first full-precision weights are kept as the source of every build
/// (<see cref="FullPrecisionCopy"/>, on the device or parked in host memory as <paramref name="placement"/> says): a
/// re-quantization after a commit starts from them, not from the int8 weights in service.
/// </summary>
public sealed class LocalLayerRunner(DecoderLayer layer, FullPrecisionPlacement placement = FullPrecisionPlacement.Auto) : ILayerRunner, IDisposable
{
    private DecoderLayerWeights? _pending;
    private FullPrecisionCopy? _fullPrecision;

    public int Index => Layer.Index;

    public DecoderLayer Layer { get; } = layer;

    /// <summary>What the layer collected during the last calibration pass.</summary>
    public LayerCalibration? Calibration { get; private set; }

    /// <summary>The weights a forward pass of <paramref name="set"/> uses.</summary>
    public DecoderLayerWeights Weights(WeightSet set) =>
        set == WeightSet.Serving
            ? Layer.Weights
            : _pending ?? throw new InvalidOperationException($"layer {Index} has no built weights to run; Build makes them");

    public Task BeginCalibration()
    {
        var previous = Calibration;
        Calibration = null;
        previous?.Dispose();

        // Statistics are the largest thing a layer allocates: first give back a KV pool that sampling grew.
        Layer.TrimKvCache();
        Calibration = LayerCalibration.For(Layer, _fullPrecision);
        return Task.CompletedTask;
    }

    public Task<LayerQuantizationReport> Build(QuantizationRecipe recipe, CancellationToken cancellation)
    {
        var calibration = Calibration ?? throw new InvalidOperationException($"layer {Index} has no calibration statistics; run a calibration pass first");
        return Task.Run(() =>
        {
            FullPrecisionCopy source;
            lock (this)
            {
                source = _fullPrecision ??= FullPrecisionCopy.Of(Layer.Weights);
            }

            var (weights, report) = source.Use(Layer.Device, original =>
                LayerQuantizer.Quantize(Index, original, calibration, recipe, Layer.Device, _ => cancellation.ThrowIfCancellationRequested()));
            lock (this)
            {
                _pending?.Dispose();
                _pending = weights;
            }

            return report;
        }, cancellation);
    }

    public Task<int> Commit()
    {
        lock (this)
        {
            var built = _pending ?? throw new InvalidOperationException($"layer {Index} has no built weights to commit");
            _pending = null;

            // The full-precision weights leave service but stay as the source of the next build.
            FullPrecisionCopy.Retire(_fullPrecision, Layer.SwapWeights(built), Layer.Device, placement);

            return Task.FromResult(Layer.Version);
        }
    }

    public Task Discard()
    {
        lock (this)
        {
            _pending?.Dispose();
            _pending = null;
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Calibration?.Dispose();
        Calibration = null;
        lock (this)
        {
            _pending?.Dispose();
            _pending = null;

            // Still in service, they belong to the layer, which frees them when it is disposed (the copy knows).
            _fullPrecision?.Dispose();
            _fullPrecision = null;
        }
    }
}
