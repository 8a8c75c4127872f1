using System.Diagnostics;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// The calibrate → quantize → commit loop of a whole model, written once for every transport (one process or a
/// cluster of layer grains). Layer-parallel: one full-precision pass collects every layer's statistics, then all
/// layers build at once. Sequential: each layer is calibrated on what the quantized layers before it produce, as
/// llm-compressor's sequential pipeline does. Either way every layer's new weights are held beside the old ones and
/// go into service together at the end; a failure or a cancellation anywhere discards them all, so the model keeps
/// serving exactly what it served before.
/// </summary>
public static class QuantizationEngine
{
    /// <summary>Tokens per calibration forward step: large enough to keep the matrix kernels busy, small enough for memory.</summary>
    public const int DefaultBatchTokens = 4096;

    /// <summary>
    /// The largest activation a calibration step moves between stages. Orleans refuses messages over 100 MB by default;
    /// a 4096-token batch of a 70B model (hidden 8192) would be 134 MB, so such models take smaller batches.
    /// </summary>
    public const long MaxStepBytes = 64L << 20;

    /// <summary>Tokens per calibration step for a model: the default, or fewer where one step's activations would be too large.</summary>
    public static int BatchTokens(ModelConfig config) =>
        (int)Math.Clamp(MaxStepBytes / (config.HiddenSize * (long)sizeof(float)), 1, DefaultBatchTokens);

    /// <summary>
    /// Splits samples into forward batches in order, each up to the token budget (a longer sample goes alone).
    /// Calibration sequences get ids of their own (sample i is sequence long.MinValue + i), far from the generator's,
    /// so they never meet a live sequence's cache. Every transport batches the same way, which keeps the statistics —
    /// and so the int8 weights — bit-identical between one process and a cluster.
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

    /// <summary>
    /// Quantizes every layer of <paramref name="pipeline"/>. Throws (after discarding everything built) when a layer
    /// fails or <paramref name="cancellation"/> fires; the exception names the layer.
    /// </summary>
    public static async Task<QuantizationReport> Run(ILayerPipeline pipeline, IReadOnlyList<int[]> samples, QuantizationRecipe recipe,
        QuantizationMode mode, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellation = default, int? batchTokens = null)
    {
        if (samples.Count == 0 || samples.Any(s => s.Length == 0))
        {
            throw new ArgumentException("calibration needs at least one sample, and no sample may be empty", nameof(samples));
        }

        LayerQuantizer.Validate(recipe, pipeline.LayerCount);
        var clock = Stopwatch.StartNew();
        var batches = CalibrationBatches(samples, batchTokens ?? BatchTokens(pipeline.Config));
        var layers = Enumerable.Range(0, pipeline.LayerCount).Select(pipeline.Layer).ToArray();
        var reports = new LayerQuantizationReport[layers.Length];
        var calibrationTime = TimeSpan.Zero;
        try
        {
            await Task.WhenAll(layers.Select(l => l.BeginCalibration()));
            if (mode == QuantizationMode.LayerParallel)
            {
                // Collect: one pass of every batch through the full-precision model; each layer observes as it passes.
                for (int b = 0; b < batches.Count; b++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    using (var input = await pipeline.Embed(batches[b].Tokens, cancellation))
                    using (await pipeline.Forward(input, new PipelineStep(batches[b].Batch, [], Observe: true), 0, layers.Length - 1, cancellation))
                    {
                    }

                    await pipeline.EndSequences(SequenceIds(batches[b]));
                    progress?.Report(new QuantizationProgress("calibrate", b + 1, batches.Count, clock.Elapsed));
                }

                calibrationTime = clock.Elapsed;

                // Compute: every layer builds at once, each beside its serving weights. The first failure stops the
                // others, and every build has ended before anything is discarded.
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                var builds = layers.Select(l => Build(l, recipe, stop.Token)).ToList();
                int done = 0;
                try
                {
                    await foreach (var finished in Task.WhenEach(builds))
                    {
                        var report = await finished;
                        reports[report.Layer] = report;
                        progress?.Report(new QuantizationProgress("quantize", ++done, layers.Length, clock.Elapsed, report));
                    }
                }
                catch
                {
                    await stop.CancelAsync();
                    await WhenAllEnded(builds);
                    throw;
                }
            }
            else
            {
                var hidden = new Hidden[batches.Count];
                try
                {
                    for (int b = 0; b < batches.Count; b++)
                    {
                        hidden[b] = await pipeline.Embed(batches[b].Tokens, cancellation);
                    }

                    foreach (var layer in layers)
                    {
                        // Collect on this layer's inputs as the quantized layers before it produce them …
                        var started = clock.Elapsed;
                        for (int b = 0; b < batches.Count; b++)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            using (await pipeline.Forward(hidden[b], new PipelineStep(batches[b].Batch, [], Observe: true), layer.Index, layer.Index, cancellation))
                            {
                            }

                            await pipeline.EndSequences(SequenceIds(batches[b]));
                        }

                        calibrationTime += clock.Elapsed - started;
                        reports[layer.Index] = await Build(layer, recipe, cancellation);

                        // … then carry the batches through its new (still pending) weights to the next layer.
                        for (int b = 0; b < batches.Count; b++)
                        {
                            var next = await pipeline.Forward(hidden[b], new PipelineStep(batches[b].Batch, [], Weights: WeightSet.Pending), layer.Index, layer.Index, cancellation);
                            hidden[b].Dispose();
                            hidden[b] = next;
                            await pipeline.EndSequences(SequenceIds(batches[b]));
                        }

                        progress?.Report(new QuantizationProgress("quantize", layer.Index + 1, layers.Length, clock.Elapsed, reports[layer.Index]));
                    }
                }
                finally
                {
                    foreach (var h in hidden)
                    {
                        h?.Dispose();
                    }
                }
            }
        }
        catch
        {
            // Nothing went into service yet: dropping what was built leaves the model as it was.
            await Task.WhenAll(layers.Select(l => l.Discard()));
            throw;
        }

        // Apply: all layers together.
        await Task.WhenAll(layers.Select(l => l.Commit()));
        return new QuantizationReport(mode, samples.Count, samples.Sum(s => (long)s.Length), calibrationTime, clock.Elapsed, reports);
    }

    /// <summary>A layer's build, its failure named by the layer (a cancellation stays a cancellation).</summary>
    private static async Task<LayerQuantizationReport> Build(ILayerRunner layer, QuantizationRecipe recipe, CancellationToken cancellation)
    {
        try
        {
            return await layer.Build(recipe, cancellation);
        }
        catch (Exception error) when (error is not OperationCanceledException && error is not LayerQuantizationException)
        {
            throw new LayerQuantizationException(layer.Index, error);
        }
    }

    private static async Task WhenAllEnded(IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks);
        }
        catch
        {
            // Their failures are not the one being reported.
        }
    }

    private static long[] SequenceIds(CalibrationBatch batch) => batch.Batch.Chunks.Select(c => c.SequenceId).ToArray();
}
