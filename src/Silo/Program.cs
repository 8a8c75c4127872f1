using System.CommandLine;
using OrleansQuant.Silo.Commands;

var root = new RootCommand("OrleansQuant: quantize decoder-only LLMs to INT8 W8A8 and serve them on an Orleans cluster.");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ExportDemoCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(ClusterCommands.Create());
return await root.Parse(args).InvokeAsync();
