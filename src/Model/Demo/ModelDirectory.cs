namespace OrleansQuant.Model.Demo;

/// <summary>
/// Turns what a user passes as <c>--model</c> into what loaders open (<see cref="ModelSource.Open"/>): a checkpoint
/// directory, a bundled model (<c>speaking</c>), the cached directory of a demo model, or a synthetic model's name
/// (<c>synthetic:NAME</c>), which has no directory: its weights are generated on the devices that load them.
/// </summary>
public static class ModelDirectory
{
    public static string Resolve(string model)
    {
        Check(model);
        if (SyntheticModels.IsSynthetic(model))
        {
            return SyntheticModels.Prefix + SyntheticModels.ByName(model).Name;
        }

        return Directory.Exists(model) ? model : BundledModels.Directory(model) ?? DemoModelWriter.EnsureCached(Demo(model)!);
    }

    /// <summary>Fails at once, without writing a demo model, when <paramref name="model"/> names nothing that exists.</summary>
    public static void Check(string model)
    {
        if (SyntheticModels.IsSynthetic(model))
        {
            SyntheticModels.ByName(model);
            return;
        }

        if (!Directory.Exists(model) && Demo(model) is null && !string.Equals(model, BundledModels.Speaking, StringComparison.OrdinalIgnoreCase))
        {
            throw new DirectoryNotFoundException(
                $"--model '{model}': no such directory, and not a bundled model ({BundledModels.Speaking}), a demo model name ({string.Join(", ", DemoModels.All.Select(s => s.Name))}) " +
                $"or a synthetic one ({string.Join(", ", SyntheticModels.All.Select(s => SyntheticModels.Prefix + s.Name))})");
        }
    }

    private static DemoModelSpec? Demo(string model) =>
        DemoModels.All.FirstOrDefault(s => string.Equals(s.Name, model, StringComparison.OrdinalIgnoreCase));
}
