using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The engine's progress as a job's events, reported synchronously on the grain's thread (unlike Progress&lt;T&gt;, which posts);
/// its layer count ("quantize" stage) also goes to the quantization-progress gauge of <paramref name="model"/>.
/// </summary>
internal sealed class JobProgress(ModelJob job, string model) : IProgress<QuantizationProgress>
{
    public const string QuantizeStage = "quantize";

    public void Report(QuantizationProgress value)
    {
        job.Report(new JobEvent(value.Stage, value.Done, value.Total, 0, value.Layer?.Layer, value.Layer?.ErrorBefore, value.Layer?.ErrorAfter,
            value.Layer?.Duration.TotalSeconds));
        if (value.Stage == QuantizeStage)
        {
            QuantizationProgressBoard.Report(model, value.Done, value.Total);
        }
    }
}
