using System.Diagnostics;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Model;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// A model's layer grains as an <see cref="ILayerPipeline"/>, in stages: consecutive layers on one device are one
/// stage, run by one call (the activation stays on the device between them). The coordinator carries activations
/// only between stages; the last stage returns only the rows that are sampled.
/// </summary>
internal sealed class ClusterPipeline : ILayerPipeline
{
    private readonly IGrainFactory _grains;
    private readonly CoordinatorHead _head;
    private readonly ClusterLayerRunner[] _runners;
    private (int First, int Last)[] _stages;

    public ClusterPipeline(string model, ModelConfig config, IReadOnlyList<LayerPlacement> plan, CoordinatorHead head, IGrainFactory grains, HopRecorder hops)
    {
        Hops = hops;
        Model = model;
        Config = config;
        Plan = plan;
        _head = head;
        _grains = grains;
        Layers = plan.Select(p => grains.GetGrain<ILayerGrain>($"{model}/{p.Layer}")).ToArray();
        _runners = plan.Select(p => new ClusterLayerRunner(p.Layer, grains.GetGrain<ILayerControlGrain>($"{model}/{p.Layer}"))).ToArray();
        _stages = Stages(plan);
    }

    /// <summary>The model grain's name, which the generation metrics are tagged with.</summary>
    public string Model { get; }

    public ModelConfig Config { get; }

    /// <summary>The wall and compute time of every hop a step makes: the embedding, each stage call, the head.</summary>
    public HopRecorder Hops { get; }

    /// <summary>Stage calls a serving step makes: one per run of consecutive layers on one device.</summary>
    public int StageCount => _stages.Length;

    /// <summary>Where each layer is; replaced (with the stages) when layers lost with a silo come back elsewhere.</summary>
    public IReadOnlyList<LayerPlacement> Plan { get; private set; }

    public IReadOnlyList<ILayerGrain> Layers { get; }

    public IEnumerable<ILayerControlGrain> Controls => _runners.Select(r => r.Control);

    public int LayerCount => _runners.Length;

    /// <summary>Devices the model spans: one generation lane each keeps them all busy.</summary>
    public int DeviceCount => Math.Max(1, Plan.Select(p => (p.Silo, p.Device)).Distinct().Count());

    public ILayerRunner Layer(int index) => _runners[index];

    public async Task<Hidden> Embed(int[] tokens, CancellationToken cancellation) => new PayloadHidden(await _head.Embed(tokens));

    public async Task<Hidden> Forward(Hidden input, PipelineStep step, int first, int last, CancellationToken cancellation)
    {
        var (output, _) = await Run(((PayloadHidden)input).Payload, step, first, last, returnRows: null);
        return new PayloadHidden(output);
    }

    public async Task<StepSamples> Sample(int[] tokens, PipelineStep step, int[] rows, SamplingRow[] sampling, StepScoring? scoring, CancellationToken cancellation)
    {
        // Where layer 0 or the last layer shares the head's device, the activation crosses as a handle, not via the host.
        int last = LayerCount - 1;
        bool keepLast = _head.SharesDevice(Plan[last].Silo, Plan[last].Device);
        var input = await _head.Embed(tokens, park: _head.SharesDevice(Plan[0].Silo, Plan[0].Device));
        // Rows the head scores (a prompt's, for its log-probabilities) come back from the last stage after the sampled ones.
        int[] returned = scoring is { Rows.Length: > 0 } ? [.. rows, .. scoring.Rows] : rows;
        var (output, versions) = await Run(input, step, 0, last, returned, keepLast);
        var samples = await _head.Sample(output, rows, sampling, scoring);
        return samples with { LayerVersions = versions };
    }

    /// <summary>
    /// The layers now live at <paramref name="plan"/> (a recovery restored some on other silos): stages and on-device
    /// hand-offs follow. Steps already running keep the stages they started with and fail where a layer moved.
    /// </summary>
    public void Replan(IReadOnlyList<LayerPlacement> plan)
    {
        Plan = plan;
        _stages = Stages(plan);
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> (each chunk's, in order) through every layer to fill their KV caches, sampling
    /// nothing: the re-prefill of sequences whose caches were lost. Only one row comes back, and is dropped.
    /// </summary>
    public async Task Prefill(int[] tokens, ForwardBatch batch)
    {
        var input = await _head.Embed(tokens);
        await Run(input, PipelineStep.Serve(batch, []), 0, LayerCount - 1, returnRows: [0]);
    }

    public Task EndSequences(IReadOnlyList<long> sequences) =>
        sequences.Count == 0 ? Task.CompletedTask : Task.WhenAll(Layers.Select(l => l.EndSequences(sequences)));

    /// <param name="keepLast">leave the last layer's output on its device (the head shares it) instead of returning rows.</param>
    private async Task<(ActivationPayload Output, IReadOnlyList<int> Versions)> Run(
        ActivationPayload input, PipelineStep step, int first, int last, int[]? returnRows, bool keepLast = false)
    {
        var chunks = step.Batch.Chunks.Select(c => new ChunkDescriptor(c.SequenceId, c.StartPosition, c.Length)).ToArray();
        var current = input;
        var versions = new List<int>();
        foreach (var (from, through) in Calls(step, first, last))
        {
            // Split off inside a stage, the output stays on the device for the next call there.
            bool keep = through < last ? SameDevice(through, through + 1) : keepLast;
            long called = Stopwatch.GetTimestamp();
            var result = await Layers[from].Forward(new StageStep(chunks, current, step.Ended, through, step.Observe,
                step.Weights == WeightSet.Pending, through == last && !keep ? returnRows : null, keep));
            Hops.Record(HopRecorder.Stage, Stopwatch.GetElapsedTime(called), result.Compute, through - from + 1);
            current = result.Hidden;
            versions.AddRange(result.Versions);
        }

        return (current, versions);
    }

    /// <summary>
    /// The calls that run layers [first, last]: one per stage; but a calibration step, whose statistics make each layer
    /// several times slower, goes one layer per call, so that no call's duration grows with the layers a device holds.
    /// </summary>
    private IEnumerable<(int From, int Through)> Calls(PipelineStep step, int first, int last)
    {
        foreach (var (stageFirst, stageLast) in _stages)
        {
            int from = Math.Max(first, stageFirst), through = Math.Min(last, stageLast);
            if (from > through)
            {
                continue;
            }

            if (!step.Observe)
            {
                yield return (from, through);
                continue;
            }

            for (int layer = from; layer <= through; layer++)
            {
                yield return (layer, layer);
            }
        }
    }

    private bool SameDevice(int a, int b) => Plan[a].Silo == Plan[b].Silo && Plan[a].Device == Plan[b].Device;

    private static (int First, int Last)[] Stages(IReadOnlyList<LayerPlacement> plan)
    {
        var stages = new List<(int, int)>();
        for (int i = 0; i < plan.Count; i++)
        {
            int first = i;
            while (i + 1 < plan.Count && plan[i + 1].Silo == plan[first].Silo && plan[i + 1].Device == plan[first].Device)
            {
                i++;
            }

            stages.Add((first, i));
        }

        return stages.ToArray();
    }
}
