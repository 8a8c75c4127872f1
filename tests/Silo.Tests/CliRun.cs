using System.CommandLine;
using System.Diagnostics;

namespace OrleansQuant.Silo.Tests;

/// <summary>One in-process invocation of a command line with its stdout and stderr captured.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error, TimeSpan Elapsed)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Runs <paramref name="args"/> through the real <c>orleansquant</c> command line, as <c>Main</c> does.</summary>
    public static Task<CliRun> Of(params string[] args) => Capture(() => Cli.RunAsync(args));

    /// <summary>Runs <paramref name="args"/> through <paramref name="root"/> as System.CommandLine invokes it by default.</summary>
    public static Task<CliRun> Of(RootCommand root, params string[] args) => Capture(() => root.Parse(args).InvokeAsync());

    private static async Task<CliRun> Capture(Func<Task<int>> run)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        var clock = Stopwatch.StartNew();
        try
        {
            int exit = await run();
            return new CliRun(exit, output.ToString(), error.ToString(), clock.Elapsed);
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }
}
