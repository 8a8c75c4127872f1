using System.CommandLine;
using OrleansQuant.Silo.Errors;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Tests;

/// <summary>The CLI's one error handler: one line on stderr, the right exit code, never a stack trace on the console.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CommandErrorsTests
{
    [Fact]
    public async Task AMissingModelDirectoryIsBadInput()
    {
        // Through the root command itself: the handler is part of every command, whoever invokes it.
        var run = await CliRun.Of(Cli.Create(), "generate", "--model", "/no/such/dir", "--prompt", "hi");

        Assert.Equal(ExpectedError.BadInput, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains("/no/such/dir", line);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task ABadOptionValueThrownByTheCommandIsBadInput()
    {
        var run = await CliRun.Of("generate", "--model", "tiny", "--prompt-ids", "1,x");

        Assert.Equal(ExpectedError.BadInput, run.ExitCode);
        Assert.Equal("error: --prompt-ids: 'x' is not a token id; expected non-negative integers separated by commas", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task WhatTheParserRejectsIsBadInputInOneLine()
    {
        var run = await CliRun.Of("quantize", "--model", "tiny", "--samples", "many");

        Assert.Equal(ExpectedError.BadInput, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains("--out", line);
        Assert.Contains("'many'", line);
        Assert.EndsWith("(see 'orleansquant quantize --help')", line);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task AnUnexpectedErrorNamesItsTypeAndTheLogFileThatHoldsItsTrace()
    {
        var crash = new Command("crash-test");
        crash.SetAction(_ => Crash());
        var root = new RootCommand { crash };
        CommandErrors.Install(root);

        var run = await CliRun.Of(root, "crash-test");

        Assert.Equal(ExpectedError.Failed, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        string log = Path.Combine(LogFile.Directory, $"crash-test-{Environment.ProcessId}.log");
        Assert.Equal($"error: NullReferenceException: the test's own null (details in {log})", line);
        Assert.Contains(nameof(Crash), File.ReadAllText(log));
    }

    [Fact]
    public async Task AnAsynchronousCommandIsGuardedToo()
    {
        var failing = new Command("async-test");
        failing.SetAction(async (_, cancellation) =>
        {
            await Task.Yield();
            throw new TimeoutException("the silo took too long");
        });
        var root = new RootCommand { failing };
        CommandErrors.Install(root);

        var run = await CliRun.Of(root, "async-test");

        Assert.Equal(ExpectedError.Failed, run.ExitCode);
        Assert.Equal("error: the silo took too long", Assert.Single(run.ErrorLines));
    }

    private static int Crash() => throw new NullReferenceException("the test's own null");
}
