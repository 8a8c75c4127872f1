using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Serialization;
using OrleansQuant.Model;

namespace OrleansQuant.Silo.Errors;

/// <summary>
/// An error the user can act on — bad input, a missing file, a cluster that does not answer, Ctrl+C — as the one line
/// and exit code the CLI reports for it. Anything else is a bug, reported with its type and a pointer to the trace.
/// </summary>
internal sealed record ExpectedError(int ExitCode, string Message)
{
    public const int BadInput = 2;
    public const int Failed = 1;

    /// <summary>What shells expect from a process stopped by SIGINT (128 + 2); System.CommandLine returns it too when an action ignores Ctrl+C.</summary>
    public const int Interrupted = 130;

    // Exceptions that cross a grain call keep their type only when Orleans can rebuild it; the model layer's own
    // arrive as a fallback naming the original type, and still mean the same thing.
    private static readonly HashSet<string> s_badInputTypeNames = new(StringComparer.Ordinal)
    {
        typeof(ModelFormatException).FullName!,
        typeof(ArgumentException).FullName!,
        typeof(ArgumentOutOfRangeException).FullName!,
        typeof(ArgumentNullException).FullName!,
        typeof(FileNotFoundException).FullName!,
        typeof(DirectoryNotFoundException).FullName!,
    };

    /// <param name="interrupted">whether the command's cancellation token fired (Ctrl+C), which makes a cancellation expected.</param>
    public static ExpectedError? Classify(Exception exception, bool interrupted) => exception switch
    {
        OperationCanceledException when interrupted => new(Interrupted, "interrupted"),
        ArgumentException or FileNotFoundException or DirectoryNotFoundException or ModelFormatException => new(BadInput, exception.Message),
        UnavailableExceptionFallbackException { ExceptionType: string type } when s_badInputTypeNames.Contains(type) => new(BadInput, exception.Message),

        // A disposed object is a bug in this program, not something the user did.
        ObjectDisposedException => null,
        InvalidOperationException or TimeoutException or OperationCanceledException => new(Failed, exception.Message),
        ConnectionFailedException or OrleansMessageRejectionException => new(Failed, exception.Message),
        IOException or UnauthorizedAccessException => new(Failed, exception.Message),

        // The model layer's refusals: an unsupported tensor type or host, a Hessian that is not positive definite.
        NotSupportedException => new(Failed, exception.Message),
        ArithmeticException when exception.GetType() == typeof(ArithmeticException) => new(Failed, exception.Message),
        _ => null,
    };
}
