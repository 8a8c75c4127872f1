using System.Diagnostics;
using System.Runtime.ExceptionServices;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Quantizes every decoder layer of a model in place with a recipe: calibration batches pass through the layers
/// while each layer collects its statistics, then each layer is smoothed and quantized and its new weights swapped in.
/// <see cref="QuantizationMode"/> decides whether layers are calibrated on full-precision or quantized inputs.
/// </summary>
public sealed class ModelQuantizer
{
    /// <summary>Tokens per calibration forward step: large enough to keep the matrix kernels busy, small enough for memory.</summary>
    public const int DefaultBatchTokens = 4096;

    private readonly CausalLanguageModel _model;
    private readonly QuantizationRecipe _recipe;
    private readonly QuantizationMode _mode;
    private readonly int _batchTokens;

    public ModelQuantizer(CausalLanguageModel model, QuantizationRecipe recipe, QuantizationMode mode = QuantizationMode.LayerParallel, int batchTokens = DefaultBatchTokens)
    {
        LayerQuantizer.Validate(recipe, model.Layers.Count);
        _model = model;
        _recipe = recipe;
        _mode = mode;
        _batchTokens = batchTokens;
    }

    /// <summary>
    /// Splits samples into forward batches in order, each up to the token budget (a longer sample goes alone).
    /// Calibration sequences get ids of their own (sample i is sequence long.MinValue + i), far from the generator's,
    /// so they never meet a live sequence's cache. The cluster batches the same way, which keeps its statistics — and
    /// so its int8 weights — bit-identical to this quantizer's.
    /// </summary>
    public static IReadOnlyList<CalibrationBatch> CalibrationBatches(IReadOnlyList<int[]> samples, int batchTokens)
    {
        var batches = new List<CalibrationBatch>();
        var current = new List<int>();
        int tokens = 0;
        void Close()
        {
            var chunks = current.Select(i => new SequenceChunk(long.MinValue + i, 0, samples[i].Length)).ToArray();
            batches.Add(new CalibrationBatch(current.SelectMany(i => samples[i]).ToArray(), new ForwardBatch(chunks)));
            current = [];
            tokens = 0;
        }

        for (int i = 0; i < samples.Count; i++)
        {
            if (current.Count > 0 && tokens + samples[i].Length > batchTokens)
            {
                Close();
            }

            current.Add(i);
            tokens += samples[i].Length;
        }

        if (current.Count > 0)
        {
            Close();
        }

        return batches;
    }

    public QuantizationReport Run(IReadOnlyList<int[]> samples, IProgress<QuantizationProgress>? progress = null)
    {
        if (samples.Count == 0 || samples.Any(s => s.Length == 0))
        {
            throw new ArgumentException("calibration needs at least one sample, and no sample may be empty", nameof(samples));
        }

        var clock = Stopwatch.StartNew();
        var batches = CalibrationBatches(samples, _batchTokens);
        var layers = _model.Layers;
        var reports = new LayerQuantizationReport[layers.Count];
        TimeSpan calibrationTime;
        if (_mode == QuantizationMode.LayerParallel)
        {
            var calibrations = layers.Select(l => new LayerCalibration(l.Index, _model.Config)).ToArray();
            for (int b = 0; b < batches.Count; b++)
            {
                var (tokens, batch) = batches[b];
                using var hidden = _model.Head.Embed(tokens);
                foreach (var layer in layers)
                {
                    layer.Forward(hidden, batch, calibrations[layer.Index]);
                }

                End(batch);
                progress?.Report(new QuantizationProgress("calibrate", b + 1, batches.Count, clock.Elapsed));
            }

            calibrationTime = clock.Elapsed;

            // Every layer's new weights are built before any is swapped in: a failure anywhere leaves the model as it was.
            var built = new (DecoderLayerWeights Weights, LayerQuantizationReport Report)?[layers.Count];
            int done = 0;
            try
            {
                Parallel.ForEach(layers, layer =>
                {
                    built[layer.Index] = LayerQuantizer.Quantize(layer.Index, HostLayerWeights.Download(layer.Weights), calibrations[layer.Index], _recipe, _model.Device);
                    progress?.Report(new QuantizationProgress("quantize", Interlocked.Increment(ref done), layers.Count, clock.Elapsed, built[layer.Index]!.Value.Report));
                });
            }
            catch (AggregateException failure)
            {
                foreach (var result in built)
                {
                    result?.Weights.Dispose();
                }

                ExceptionDispatchInfo.Throw(failure.InnerExceptions[0]);
            }

            foreach (var layer in layers)
            {
                var (weights, report) = built[layer.Index]!.Value;
                layer.SwapWeights(weights).Dispose();
                reports[layer.Index] = report;
            }
        }
        else
        {
            calibrationTime = TimeSpan.Zero;
            var device = _model.Device;
            var hidden = batches.Select(a => _model.Head.Embed(a.Tokens)).ToArray();
            var replaced = new List<(DecoderLayer Layer, DecoderLayerWeights Old)>();
            try
            {
                foreach (var layer in layers)
                {
                    // Collect on this layer's inputs as the quantized layers before it produce them …
                    var calibration = new LayerCalibration(layer.Index, _model.Config);
                    var started = clock.Elapsed;
                    for (int b = 0; b < batches.Count; b++)
                    {
                        using var scratch = Copy(device, hidden[b]);
                        layer.Forward(scratch, batches[b].Batch, calibration);
                        End(batches[b].Batch);
                    }

                    calibrationTime += clock.Elapsed - started;
                    var (weights, report) = LayerQuantizer.Quantize(layer.Index, HostLayerWeights.Download(layer.Weights), calibration, _recipe, device);
                    replaced.Add((layer, layer.SwapWeights(weights)));
                    reports[layer.Index] = report;

                    // … then carry the batches through the quantized layer to the next.
                    for (int b = 0; b < batches.Count; b++)
                    {
                        layer.Forward(hidden[b], batches[b].Batch);
                        End(batches[b].Batch);
                    }

                    progress?.Report(new QuantizationProgress("quantize", layer.Index + 1, layers.Count, clock.Elapsed, report));
                }
            }
            catch
            {
                // Put the full-precision weights back in every layer already done, so a failure changes nothing.
                foreach (var (layer, old) in replaced)
                {
                    layer.RestoreWeights(old).Dispose();
                }

                replaced.Clear();
                throw;
            }
            finally
            {
                foreach (var (_, old) in replaced)
                {
                    old.Dispose();
                }

                foreach (var h in hidden)
                {
                    h.Dispose();
                }
            }
        }

        return new QuantizationReport(_mode, samples.Count, samples.Sum(s => (long)s.Length), calibrationTime, clock.Elapsed, reports);
    }

    private void End(ForwardBatch batch)
    {
        foreach (var chunk in batch.Chunks)
        {
            _model.EndSequence(chunk.SequenceId);
        }
    }

    private static DeviceTensor Copy(IComputeDevice device, DeviceTensor source)
    {
        var copy = device.Allocate(source.Type, source.Rows, source.Columns);
        device.CopyRows(source, 0, copy, 0, source.Rows);
        return copy;
    }
}
