namespace OrleansQuant.Model.Demo;

/// <summary>Turns what a user passes as <c>--model</c> into a checkpoint directory: a path, or the name of a demo model.</summary>
public static class ModelDirectory
{
    public static string Resolve(string model)
    {
        if (Directory.Exists(model))
        {
            return model;
        }

        var spec = DemoModels.All.FirstOrDefault(s => string.Equals(s.Name, model, StringComparison.OrdinalIgnoreCase));
        if (spec is not null)
        {
            return DemoModelWriter.EnsureCached(spec);
        }

        throw new DirectoryNotFoundException(
            $"--model '{model}': no such directory, and not a demo model name ({string.Join(", ", DemoModels.All.Select(s => s.Name))})");
    }
}
