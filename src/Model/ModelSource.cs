using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;

namespace OrleansQuant.Model;

/// <summary>Opens what a loader is given — a checkpoint directory or a synthetic model's name — as one <see cref="IModelSource"/>.</summary>
public static class ModelSource
{
    /// <summary>
    /// A synthetic model for <c>synthetic:NAME</c> (<see cref="SyntheticModels"/>), otherwise the checkpoint directory
    /// at <paramref name="location"/>, its config.json read and checked.
    /// </summary>
    public static IModelSource Open(string location)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        return SyntheticModels.IsSynthetic(location)
            ? new SyntheticModel(SyntheticModels.ByName(location))
            : ModelCheckpoint.Open(location);
    }
}
