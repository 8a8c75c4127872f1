namespace OrleansQuant.Model.Demo;

/// <summary>Turns what a user passes as <c>--model</c> into a checkpoint directory: a path, or the name of a demo model.</summary>
public static class ModelDirectory
{
    public static string Resolve(string model)
    {
        Check(model);
        return Directory.Exists(model) ? model : DemoModelWriter.EnsureCached(Demo(model)!);
    }

    /// <summary>Fails at once, without writing a demo model, when <paramref name="model"/> names nothing that exists.</summary>
    public static void Check(string model)
    {
        if (!Directory.Exists(model) && Demo(model) is null)
        {
            throw new DirectoryNotFoundException(
                $"--model '{model}': no such directory, and not a demo model name ({string.Join(", ", DemoModels.All.Select(s => s.Name))})");
        }
    }

    private static DemoModelSpec? Demo(string model) =>
        DemoModels.All.FirstOrDefault(s => string.Equals(s.Name, model, StringComparison.OrdinalIgnoreCase));
}
