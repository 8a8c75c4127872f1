using OrleansQuant.Silo.Errors;

namespace OrleansQuant.Silo.Tests;

/// <summary>The operator's client when no cluster is there to talk to.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ClusterCommandTests
{
    [Fact]
    public async Task StatusWithNoSiloAtTheGatewaySaysSoWithinSeconds()
    {
        int port = FreePort.Next();

        var run = await CliRun.Of("cluster", "status", "--gateway", port.ToString());

        Assert.True(run.Elapsed < TimeSpan.FromSeconds(15), $"took {run.Elapsed}");
        Assert.Equal(ExpectedError.Failed, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains($"no silo answers at gateway port {port}", error);
        Assert.Contains("orleansquant serve", error);
        Assert.DoesNotContain("   at ", run.Error);

        // Orleans' own complaints about the refused connections went to the log the command announced.
        var logs = Assert.Single(run.ErrorLines, l => l.StartsWith("logs: ", StringComparison.Ordinal));
        Assert.EndsWith($"cluster-status-{Environment.ProcessId}.log", logs);
        Assert.Contains("Orleans.", File.ReadAllText(logs["logs: ".Length..]));
        Assert.Equal(2, run.ErrorLines.Length);
    }
}
