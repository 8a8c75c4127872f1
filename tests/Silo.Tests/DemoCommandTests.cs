namespace OrleansQuant.Silo.Tests;

/// <summary>`orleansquant demo` end to end on the tiny model: a local silo, quantization, generation, evaluation.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DemoCommandTests
{
    [Fact]
    public async Task DemoTellsTheWholeStory()
    {
        var run = await CliRun.Of("demo", "--model", "tiny", "--samples", "6", "--max-tokens", "24", "--prompt", "hello", "--silo-port", "11411", "--gateway-port", "30411");

        string text = run.Output;
        Assert.True(run.ExitCode == 0, text + run.Error);
        Assert.Contains("== load tiny", text);
        Assert.Contains("4 layers, one grain each", text);
        Assert.Contains("== calibrate on 6 samples × 24 tokens", text);
        Assert.Matches(@"  batch 1/\d+ at", text);
        Assert.Contains("== quantize layer-parallel", text);
        Assert.Matches(@"  4/4 layers done at [0-9.]+s; layer \d: W8A8 error", text);
        Assert.Contains("all 4 layers quantized", text);
        Assert.Contains("W8A8 error before (RTN)", text);
        Assert.Contains("== generate: hello", text);
        Assert.Matches(@"W8A8 vs FP on \d+ held-out tokens: KL [0-9.E+-]+ per token, top-1 agreement [0-9.]+ %", text);

        // Orleans' logs went to the file the demo announced, not to the console.
        Assert.Equal($"logs: {Path.Combine(Logging.LogFile.Directory, $"demo-{Environment.ProcessId}.log")}", Assert.Single(run.ErrorLines));
        Assert.DoesNotContain("Orleans.", text);
    }
}
