using OrleansQuant.Contracts;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// One layer grain as the quantization engine drives it. A build is a job on the layer grain: started, then waited
/// for in short calls (<see cref="PollInterval"/>), so however long GPTQ takes no call comes near Orleans' response
/// timeout; a cancellation is passed on to the layer, which ends its job with nothing applied.
/// </summary>
internal sealed class ClusterLayerRunner(int index, ILayerControlGrain control) : ILayerRunner
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    public int Index { get; } = index;

    public ILayerControlGrain Control { get; } = control;

    public Task BeginCalibration() => Control.BeginCalibration();

    public async Task<LayerQuantizationReport> Build(QuantizationRecipe recipe, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        await Control.StartBuild(RecipeWriter.ToYaml(recipe));
        var status = await WaitForJob(Control, cancellation);
        return status.State switch
        {
            JobState.Succeeded when status.Report is { } r => new LayerQuantizationReport(r.Layer, TimeSpan.FromSeconds(r.Seconds),
                r.Linears.Select(l => new LinearQuantizationReport(l.Module, l.WeightLoss, l.BaselineError, l.W8A8Error)).ToArray()),
            JobState.Cancelled => throw new OperationCanceledException($"layer {Index}: quantization cancelled", cancellation),
            _ => throw new LayerQuantizationException(Index, new InvalidOperationException(status.Error ?? "the build ended without a report")),
        };
    }

    public Task<int> Commit() => Control.Commit();

    public Task Discard() => Control.Discard();

    /// <summary>Waits for a layer's job in bounded calls; on cancellation asks it to stop and waits for it to end.</summary>
    public static async Task<LayerJobStatus> WaitForJob(ILayerControlGrain control, CancellationToken cancellation)
    {
        bool cancelled = false;
        while (true)
        {
            var status = await control.WaitJob(PollInterval);
            if (status.State != JobState.Running)
            {
                return status;
            }

            if (cancellation.IsCancellationRequested && !cancelled)
            {
                await control.CancelJob();
                cancelled = true;
            }
        }
    }
}
