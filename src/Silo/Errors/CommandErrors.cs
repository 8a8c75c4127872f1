using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Errors;

/// <summary>
/// The one error handler of every command: an expected error (<see cref="ExpectedError"/>) becomes one line
/// <c>error: message</c> on stderr and exit code 2 (bad input) or 1; anything else one line with its type and
/// message and the log file that holds its trace. The user never sees a stack trace.
/// </summary>
internal static class CommandErrors
{
    /// <summary>Wraps the action of <paramref name="command"/> and of every command under it.</summary>
    public static void Install(Command command)
    {
        command.Action = command.Action switch
        {
            AsynchronousCommandLineAction action => new GuardedAsyncAction(action),
            SynchronousCommandLineAction action => new GuardedAction(action),
            var other => other,
        };
        foreach (var sub in command.Subcommands)
        {
            Install(sub);
        }
    }

    /// <summary>
    /// Reports what the parser rejected (a missing required option, a value that is not a number) as bad input, in one
    /// line instead of System.CommandLine's own report (the errors, then the whole help text, exit code 1).
    /// </summary>
    public static int ReportParseErrors(ParseResult parse)
    {
        string command = LogFile.CommandPath(parse);
        string help = command == "orleansquant" ? "orleansquant --help" : $"orleansquant {command} --help";
        Console.Error.WriteLine($"error: {OneLine(string.Join(" ", parse.Errors.Select(e => e.Message)))} (see '{help}')");
        return ExpectedError.BadInput;
    }

    /// <summary>Reports <paramref name="exception"/> on stderr, its trace in the command's log file, and returns the exit code.</summary>
    public static int Report(Exception exception, ParseResult parse, bool interrupted)
    {
        exception = Unwrap(exception);
        var log = LogFile.For(parse);
        log.Append($"{DateTime.Now:yyyy-MM-dd HH:mm:ss.fff} fail orleansquant '{LogFile.CommandPath(parse)}' failed: {exception}");
        if (ExpectedError.Classify(exception, interrupted) is { } expected)
        {
            Console.Error.WriteLine($"error: {OneLine(expected.Message)}");
            return expected.ExitCode;
        }

        Console.Error.WriteLine($"error: {exception.GetType().Name}: {OneLine(exception.Message)} (details in {log.Path})");
        return ExpectedError.Failed;
    }

    // Task plumbing wraps the real error; the user wants to read the real one.
    private static Exception Unwrap(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => exception,
    };

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    // Kept synchronous: System.CommandLine handles Ctrl+C itself only for asynchronous actions (it cancels their token
    // and keeps the process alive), which would leave a synchronous action running on after Ctrl+C.
    private sealed class GuardedAction(SynchronousCommandLineAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => inner.ClearsParseErrors;

        public override int Invoke(ParseResult parseResult)
        {
            try
            {
                return inner.Invoke(parseResult);
            }
            catch (Exception e)
            {
                return Report(e, parseResult, interrupted: false);
            }
        }
    }

    private sealed class GuardedAsyncAction(AsynchronousCommandLineAction inner) : AsynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => inner.ClearsParseErrors;

        public override async Task<int> InvokeAsync(ParseResult parseResult, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.InvokeAsync(parseResult, cancellationToken);
            }
            catch (Exception e)
            {
                return Report(e, parseResult, interrupted: cancellationToken.IsCancellationRequested);
            }
        }
    }
}
