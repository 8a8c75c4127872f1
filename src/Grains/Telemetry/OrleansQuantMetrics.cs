using System.Diagnostics.Metrics;

namespace OrleansQuant.Grains.Telemetry;

/// <summary>
/// The engine's meter, "OrleansQuant": one instrument per thing an operator watches while a model serves or
/// quantizes. Static, as <see cref="Meter"/>s are meant to be: instruments cost nothing until a listener (the
/// Prometheus exporter of <c>serve --http</c>/<c>--metrics</c>) subscribes, and recording takes a value and a
/// <see cref="System.Diagnostics.TagList"/> on the stack, no allocation. Measurements are per process: each silo exports its own.
/// </summary>
public static class OrleansQuantMetrics
{
    public const string MeterName = "OrleansQuant";

    /// <summary>Tag: the model grain's name ("default" for what <c>serve --load</c> loads).</summary>
    public const string ModelTag = "orleansquant.model";

    /// <summary>Tag: a decoder layer's index.</summary>
    public const string LayerTag = "orleansquant.layer";

    /// <summary>Tag: a device as "kind:ordinal" ("cpu:0", "cuda:1").</summary>
    public const string DeviceTag = "orleansquant.device";

    /// <summary>Tag: the silo that owns a device, as Orleans writes its address.</summary>
    public const string SiloTag = "orleansquant.silo";

    /// <summary>The model tag of a measurement: a struct, so recording with it allocates nothing.</summary>
    public static KeyValuePair<string, object?> Model(string model) => new(ModelTag, model);

    // Latencies here run from tens of microseconds (a tiny layer on a CPU) to seconds (a long prefill on a busy lane);
    // OpenTelemetry's default buckets are made for milliseconds and would put all of them in the first few.
    private static readonly double[] s_secondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly int[] s_batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private static readonly Meter s_meter = new(MeterName, typeof(OrleansQuantMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Tokens sampled by generation steps, each sequence's last (EOS or length) included. Tagged by model.</summary>
    public static readonly Counter<long> GeneratedTokens = s_meter.CreateCounter<long>(
        "orleansquant.generation.tokens", "{token}", "Tokens generated");

    /// <summary>From a request's admission to its first token (prefill and the wait for its lane's next step). Tagged by model.</summary>
    public static readonly Histogram<double> TimeToFirstToken = SecondsHistogram(
        "orleansquant.generation.time_to_first_token", "Time from admission to a sequence's first token");

    /// <summary>Between two consecutive tokens of one sequence. Tagged by model.</summary>
    public static readonly Histogram<double> InterTokenLatency = SecondsHistogram(
        "orleansquant.generation.inter_token_latency", "Time between consecutive tokens of a sequence");

    /// <summary>
    /// Sequences admitted to a lane that have not yet taken part in a step. Admission itself never queues (a request
    /// that does not fit is refused), so this is the wait for a lane's next step. Tagged by model.
    /// </summary>
    public static readonly UpDownCounter<long> WaitingSequences = s_meter.CreateUpDownCounter<long>(
        "orleansquant.generation.waiting_sequences", "{sequence}", "Sequences admitted that wait for their lane's next step");

    /// <summary>Sequences in one generation step of one lane. Tagged by model.</summary>
    public static readonly Histogram<int> BatchSize = s_meter.CreateHistogram(
        "orleansquant.generation.batch_size", "{sequence}", "Sequences per generation step", tags: null,
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });

    /// <summary>
    /// One layer's work in one serving step, timed on its device's worker. On a GPU a layer that hands its output on
    /// without a download does not wait for its kernels, so there this is the time to queue them. Tagged by model and layer.
    /// </summary>
    public static readonly Histogram<double> LayerStepTime = SecondsHistogram(
        "orleansquant.layer.step_time", "One decoder layer's forward pass in a serving step");

    /// <summary>
    /// From a generation step failing because a silo took layers with it to those layers serving again from the model
    /// store on survivors (<c>LayerRecovery</c>). Tagged by model.
    /// </summary>
    public static readonly Histogram<double> LayerRecoveryTime = SecondsHistogram(
        "orleansquant.layer.recovery_time", "Restoring a model's layers lost with a silo, from the store");

    /// <summary>
    /// A coordinator's restoring load, from its reactivation with a record (its silo died, or the cluster restarted) to
    /// its model serving again (<c>ModelGrain</c>). Tagged by model.
    /// </summary>
    public static readonly Histogram<double> ModelRestoreTime = SecondsHistogram(
        "orleansquant.model.restore_time", "Restoring a model whose coordinator reactivated, from its record and the store");

    /// <summary>Memory in use on each device of the silos of this process (total − free), read when scraped.</summary>
    public static readonly ObservableGauge<long> DeviceMemoryUsed = s_meter.CreateObservableGauge(
        "orleansquant.device.memory.used", ObservedDevices.MemoryUsed, "By", "Memory in use on a device");

    /// <summary>The latest quantization job of each model: layers quantized / layers, 0 to 1, read when scraped.</summary>
    public static readonly ObservableGauge<double> QuantizationProgress = s_meter.CreateObservableGauge(
        "orleansquant.quantization.progress", QuantizationProgressBoard.Measure, "1", "Layers quantized / layers of a model's latest quantization");

    private static Histogram<double> SecondsHistogram(string name, string description) =>
        s_meter.CreateHistogram(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
}
