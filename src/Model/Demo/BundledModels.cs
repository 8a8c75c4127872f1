namespace OrleansQuant.Model.Demo;

/// <summary>
/// Checkpoints that ship with the app rather than being generated: the trained demo model that speaks
/// (models/demo-speaking in the repository, copied beside the app by the build; deploy/demo-model/README.md says how
/// it was made). Each may carry a calibration.txt and a heldout.txt of text it never saw in training.
/// </summary>
public static class BundledModels
{
    /// <summary>The name <c>--model</c> takes for the trained demo model; <c>demo</c>'s default.</summary>
    public const string Speaking = "speaking";

    /// <summary>The directory of a bundled model's name, or null when <paramref name="model"/> names none.</summary>
    public static string? Directory(string model) =>
        string.Equals(model, Speaking, StringComparison.OrdinalIgnoreCase) ? Locate("demo-speaking") : null;

    /// <summary>A text file beside a model's weights (calibration.txt, heldout.txt), or null when it has none.</summary>
    public static string? TextBeside(string modelDirectory, string name)
    {
        string path = Path.Combine(modelDirectory, name);
        return File.Exists(path) ? path : null;
    }

    // Beside the app (the build copies it there); else in the repository above it, for tools run from a build folder.
    private static string Locate(string folder)
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "models", folder);
        if (File.Exists(Path.Combine(beside, "config.json")))
        {
            return beside;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "models", folder);
            if (File.Exists(Path.Combine(candidate, "config.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"the bundled model '{folder}' is neither beside the app ({beside}) nor in a models/ folder above it; rebuild, or pass a checkpoint directory");
    }
}
