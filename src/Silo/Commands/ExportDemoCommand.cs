using System.CommandLine;
using OrleansQuant.Model.Demo;

namespace OrleansQuant.Silo.Commands;

/// <summary><c>orleansquant export-demo --out DIR [--tiny | --variant NAME]</c>: writes a synthetic checkpoint in Hugging Face format.</summary>
internal static class ExportDemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Directory to write the checkpoint into", Required = true };
        var tiny = new Option<bool>("--tiny") { Description = "The tiny test configuration (4 layers, hidden 64, byte vocabulary)" };
        var variant = new Option<string?>("--variant")
        {
            Description = $"A named demo model: {string.Join(", ", DemoModels.All.Select(s => s.Name))}",
        };
        var command = new Command("export-demo", "Write the embedded demo model as a Hugging Face checkpoint") { output, tiny, variant };
        command.SetAction(parse =>
        {
            var spec = parse.GetValue(variant) is string name ? DemoModels.ByName(name)
                : parse.GetValue(tiny) ? DemoModels.Tiny
                : DemoModels.Default;
            string directory = parse.GetValue(output)!;
            DemoModelWriter.Write(spec, directory);
            var config = spec.Config;
            Console.WriteLine($"wrote '{spec.Name}' to {directory}: {config.Architecture}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, "
                + $"{config.NumAttentionHeads}/{config.NumKeyValueHeads} heads, vocab {config.VocabSize}, outlier channels [{string.Join(", ", spec.OutlierChannels)}]");
            return 0;
        });
        return command;
    }
}
