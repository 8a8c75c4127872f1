using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// A whole model in this process as an <see cref="ILayerPipeline"/>: every call runs at once on the model's device,
/// so the engine's loops run here exactly as they run over layer grains. Disposing it frees what its layers collected
/// or built (calibration statistics on the device, weights never committed); the model itself stays.
/// </summary>
public sealed class LocalLayerPipeline : ILayerPipeline, IDisposable
{
    private readonly CausalLanguageModel _model;
    private readonly LocalLayerRunner[] _layers;

    public LocalLayerPipeline(CausalLanguageModel model)
    {
        _model = model;
        _layers = model.Layers.Select(l => new LocalLayerRunner(l)).ToArray();
    }

    public ModelConfig Config => _model.Config;

    public int LayerCount => _layers.Length;

    public ILayerRunner Layer(int index) => _layers[index];

    public Task<Hidden> Embed(int[] tokens, CancellationToken cancellation) =>
        Task.FromResult<Hidden>(new LocalHidden(_model.Head.Embed(tokens)));

    public Task<Hidden> Forward(Hidden input, PipelineStep step, int first, int last, CancellationToken cancellation)
    {
        var source = ((LocalHidden)input).Tensor;
        var device = _model.Device;
        var output = DeviceCopies.Copy(device, source);
        try
        {
            Run(output, step, first, last);
            return Task.FromResult<Hidden>(new LocalHidden(output));
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    public Task<StepSamples> Sample(int[] tokens, PipelineStep step, int[] rows, SamplingRow[] sampling, StepScoring? scoring, CancellationToken cancellation)
    {
        using var hidden = _model.Head.Embed(tokens);
        Run(hidden, step, 0, _layers.Length - 1);
        return Task.FromResult(HeadStep.Run(_model.Head, hidden, rows, sampling, scoring, _layers.Select(l => l.Layer.Version).ToArray()));
    }

    public Task EndSequences(IReadOnlyList<long> sequences)
    {
        foreach (long id in sequences)
        {
            _model.EndSequence(id);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }
    }

    private void Run(DeviceTensor hidden, PipelineStep step, int first, int last)
    {
        foreach (long ended in step.Ended)
        {
            _model.EndSequence(ended);
        }

        for (int i = first; i <= last; i++)
        {
            var runner = _layers[i];
            runner.Layer.Forward(hidden, step.Batch, step.Observe ? runner.Calibration : null, runner.Weights(step.Weights));
        }
    }
}
