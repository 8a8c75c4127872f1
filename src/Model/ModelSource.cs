using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model;

/// <summary>Opens what a loader is given — a checkpoint directory or a synthetic model's name — as one <see cref="IModelSource"/>.</summary>
public static class ModelSource
{
    /// <summary>
    /// A synthetic model for <c>synthetic:NAME</c> (<see cref="SyntheticModels"/>), otherwise the checkpoint directory
    /// at <paramref name="location"/>, its config.json read and checked.
    /// </summary>
    /// <param name="precision">what full-precision weights are stored as (<see cref="WeightPrecision.Auto"/>: bf16 on GPUs).</param>
    public static IModelSource Open(string location, WeightPrecision precision = WeightPrecision.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        return SyntheticModels.IsSynthetic(location)
            ? new SyntheticModel(SyntheticModels.ByName(location)) { Precision = precision }
            : ModelCheckpoint.Open(location, precision);
    }
}
