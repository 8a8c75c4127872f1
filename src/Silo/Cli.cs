using System.CommandLine;
using System.CommandLine.Invocation;
using OrleansQuant.Silo.Commands;
using OrleansQuant.Silo.Errors;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo;

/// <summary>The <c>orleansquant</c> command line: every command, the global options, and the one error handler.</summary>
internal static class Cli
{
    /// <summary>
    /// How commands are invoked: Ctrl+C and SIGTERM cancel the command's token (a silo then shuts down gracefully) and,
    /// should the command not finish within the timeout, end the process with 130/143. System.CommandLine 2.0.0
    /// leaves this off unless asked, and Ctrl+C would kill a silo mid-call.
    /// </summary>
    public static InvocationConfiguration Invocation() => new() { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) };

    /// <summary>Runs the command line <paramref name="args"/>: what <c>Main</c> does. Nothing at all asks for the help.</summary>
    public static Task<int> RunAsync(string[] args) => InvokeAsync(Create().Parse(args.Length == 0 ? ["--help"] : args));

    /// <summary>Invokes a parsed command line, reporting parse errors the way the error handler reports bad input.</summary>
    public static async Task<int> InvokeAsync(ParseResult parse) =>
        parse.Action is ParseErrorAction ? CommandErrors.ReportParseErrors(parse) : await parse.InvokeAsync(Invocation());

    public static RootCommand Create()
    {
        var root = new RootCommand("OrleansQuant: quantize decoder-only LLMs to INT8 W8A8 and serve them on an Orleans cluster.")
        {
            CliLogging.VerboseOption,
        };
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ExportDemoCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ClusterCommands.Create());
        root.Subcommands.Add(BenchCommand.Create());
        CommandErrors.Install(root);
        return root;
    }
}
