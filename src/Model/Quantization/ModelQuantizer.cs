using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Quantizes every decoder layer of a model in this process with a recipe: the <see cref="QuantizationEngine"/> over
/// a <see cref="LocalLayerPipeline"/> — the same loop the cluster runs over layer grains.
/// </summary>
public sealed class ModelQuantizer
{
    private readonly CausalLanguageModel _model;
    private readonly QuantizationRecipe _recipe;
    private readonly QuantizationMode _mode;
    private readonly int? _batchTokens;

    public ModelQuantizer(CausalLanguageModel model, QuantizationRecipe recipe, QuantizationMode mode = QuantizationMode.LayerParallel, int? batchTokens = null)
    {
        LayerQuantizer.Validate(recipe, model.Layers.Count);
        _model = model;
        _recipe = recipe;
        _mode = mode;
        _batchTokens = batchTokens;
    }

    public QuantizationReport Run(IReadOnlyList<int[]> samples, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellation = default) =>
        // Off any synchronization context, so blocking here cannot deadlock the engine's continuations.
        Task.Run(async () =>
        {
            // Statistics live on the device until this run has used them; the pipeline frees them.
            using var pipeline = new LocalLayerPipeline(_model);
            return await QuantizationEngine.Run(pipeline, samples, _recipe, _mode, progress, cancellation, _batchTokens);
        }, cancellation).GetAwaiter().GetResult();
}
