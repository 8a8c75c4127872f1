using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace OrleansQuant.Silo.Logging;

/// <summary>
/// Where the logs of Orleans and Microsoft.Extensions go for one command: its <see cref="LogFile"/>, or the console
/// (stderr) with <c>--verbose</c>. The console otherwise carries only what the command itself reports.
/// </summary>
internal sealed class CliLogging
{
    /// <summary>The global <c>--verbose</c> option; recursive, so it can follow any command.</summary>
    public static Option<bool> VerboseOption { get; } = new("--verbose", "-v")
    {
        Description = "Show Orleans' and the runtime's logs on the console instead of writing them to a log file",
        Recursive = true,
    };

    private CliLogging(bool verbose, LogFile file)
    {
        Verbose = verbose;
        File = file;
    }

    public bool Verbose { get; }

    public LogFile File { get; }

    public static CliLogging For(ParseResult parse) => new(parse.GetValue(VerboseOption), LogFile.For(parse));

    /// <summary>Replaces a host's default providers (console, debug, event source) with this command's destination.</summary>
    public void Configure(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        if (Verbose)
        {
            // All to stderr, so stdout stays the command's output even with --verbose.
            logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            logging.AddSimpleConsole(o => o.SingleLine = true);
            logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Information);
        }
        else
        {
            // Information from every category: the file is read only when something went wrong, so it should say what happened.
            logging.AddProvider(new FileLoggerProvider(File));
            logging.AddFilter<FileLoggerProvider>(null, LogLevel.Information);
        }
    }

    /// <summary>Tells the user once where the logs are, for the commands that host a silo or a client.</summary>
    public void Announce()
    {
        if (!Verbose)
        {
            Console.Error.WriteLine($"logs: {File.Path}");
        }
    }
}
