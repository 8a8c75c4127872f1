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

    // Issue 10, case 3: --out is checked before the model is even loaded, so a bad one fails in a moment, not after quantizing.
    [Fact]
    public async Task QuantizeRefusesAnOutputThatIsTheModelItselfBeforeAnyWork()
    {
        string model = OrleansQuant.Model.Demo.ModelDirectory.Resolve("tiny");

        var run = await CliRun.Of("quantize", "--model", "tiny", "--out", model);

        Assert.Equal(ExpectedError.BadInput, run.ExitCode);
        Assert.Equal(
            $"error: {model}: the output directory is the model's own directory {model}; expected another one, so the original stays as it is",
            Assert.Single(run.ErrorLines));
        Assert.True(File.Exists(Path.Combine(model, "config.json")));
    }

    [Fact]
    public async Task QuantizeRefusesANonEmptyOrUnwritableOutputBeforeLoadingTheModel()
    {
        string filled = Path.Combine(Path.GetTempPath(), "oq-filled-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(filled);
        File.WriteAllText(Path.Combine(filled, "mine.txt"), "keep");
        try
        {
            var nonEmpty = await CliRun.Of("quantize", "--model", "tiny", "--out", filled);
            Assert.Equal(ExpectedError.BadInput, nonEmpty.ExitCode);
            Assert.Equal($"error: {filled}: exists and is not empty; expected a new or empty directory, so nothing is overwritten", Assert.Single(nonEmpty.ErrorLines));
            Assert.Equal("keep", File.ReadAllText(Path.Combine(filled, "mine.txt")));

            var unwritable = await CliRun.Of("quantize", "--model", "tiny", "--out", "/proc/oq-nowhere/out");
            Assert.Equal(ExpectedError.BadInput, unwritable.ExitCode);
            var line = Assert.Single(unwritable.ErrorLines);
            Assert.StartsWith("error: /proc/oq-nowhere/out: cannot be written (", line);
            Assert.DoesNotContain("loading", unwritable.Error);
        }
        finally
        {
            Directory.Delete(filled, recursive: true);
        }
    }

    // Issue 10, case 2: the context is enforced, so max_tokens int.MaxValue is refused instead of running without end.
    [Fact]
    public async Task GenerateRefusesMaxTokensBeyondTheContext()
    {
        var run = await CliRun.Of("generate", "--model", "tiny", "--prompt-ids", "0,5,6", "--max-tokens", "2147483647");

        Assert.Equal(ExpectedError.BadInput, run.ExitCode);
        Assert.Equal(
            "error: the prompt's 3 tokens plus max_tokens 2147483647 make 2147483650, over the model's context of 2048 tokens (config.json max_position_embeddings); expected prompt + max_tokens <= 2048",
            Assert.Single(run.ErrorLines));
    }
}
