using OrleansQuant.Contracts;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>The engine's progress as a job's events, reported synchronously on the grain's thread (unlike Progress&lt;T&gt;, which posts).</summary>
internal sealed class JobProgress(ModelJob job) : IProgress<QuantizationProgress>
{
    public void Report(QuantizationProgress value) =>
        job.Report(new JobEvent(value.Stage, value.Done, value.Total, 0, value.Layer?.Layer, value.Layer?.ErrorBefore, value.Layer?.ErrorAfter,
            value.Layer?.Duration.TotalSeconds));
}
