using Orleans.Runtime;
using OrleansQuant.Model;
using OrleansQuant.Silo.Errors;

namespace OrleansQuant.Silo.Tests;

/// <summary>Which exceptions the CLI reports as the user's to fix (and with which exit code), and which as its own bugs.</summary>
public sealed class ExpectedErrorTests
{
    public static TheoryData<Exception, int> Expected => new()
    {
        { new ArgumentException("--mode 'x': expected layer-parallel or sequential"), ExpectedError.BadInput },
        { new ArgumentOutOfRangeException("samples", "must be positive"), ExpectedError.BadInput },
        { new FileNotFoundException("recipe.yaml not found"), ExpectedError.BadInput },
        { new DirectoryNotFoundException("no such directory"), ExpectedError.BadInput },
        { new ModelFormatException("config.json", "hidden_size: expected a positive integer"), ExpectedError.BadInput },
        { new InvalidOperationException("model 'demo' is not loaded"), ExpectedError.Failed },
        { new TimeoutException("no answer"), ExpectedError.Failed },
        { new SiloUnavailableException("silo gone"), ExpectedError.Failed },
        { new OperationCanceledException("cancelled inside"), ExpectedError.Failed },
        { new ArithmeticException("matrix is not positive definite"), ExpectedError.Failed },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void AnExpectedErrorKeepsItsMessage(Exception exception, int exitCode)
    {
        var error = ExpectedError.Classify(exception, interrupted: false);

        Assert.NotNull(error);
        Assert.Equal(exitCode, error.ExitCode);
        Assert.Equal(exception.Message, error.Message);
    }

    [Fact]
    public void CtrlCIsAnInterruption() =>
        Assert.Equal(new ExpectedError(ExpectedError.Interrupted, "interrupted"), ExpectedError.Classify(new TaskCanceledException(), interrupted: true));

    [Fact]
    public void BugsAreNotExpected()
    {
        Assert.Null(ExpectedError.Classify(new NullReferenceException(), interrupted: false));
        Assert.Null(ExpectedError.Classify(new ObjectDisposedException("device"), interrupted: false));
        Assert.Null(ExpectedError.Classify(new DivideByZeroException(), interrupted: false));
    }
}
