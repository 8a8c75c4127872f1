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
        Assert.Contains("== generate in full precision (greedy): hello", text);
        Assert.Contains("== generate in W8A8 (greedy): hello", text);
        Assert.Matches(@"W8A8 vs FP on \d+ held-out tokens: KL [0-9.E+-]+ per token, top-1 agreement [0-9.]+ %", text);

        // Orleans' logs went to the file the demo announced, not to the console.
        Assert.Equal($"logs: {Path.Combine(Logging.LogFile.Directory, $"demo-{Environment.ProcessId}.log")}", Assert.Single(run.ErrorLines));
        Assert.DoesNotContain("Orleans.", text);
    }

    /// <summary>
    /// The default: the bundled trained model, calibrated on its calibration text and scored on held-out text. Its
    /// continuation is English before and after quantization, and W8A8 keeps its perplexity within 5 %.
    /// </summary>
    [Fact]
    public async Task TheDefaultDemoSpeaksBeforeAndAfterQuantization()
    {
        var run = await CliRun.Of("demo", "--silo-port", "11412", "--gateway-port", "30412");

        string text = run.Output;
        Assert.True(run.ExitCode == 0, text + run.Error);
        Assert.Contains("== load speaking", text);
        Assert.Contains("6 layers, one grain each", text);
        Assert.Contains("== calibrate on 16 samples × 64 tokens of its calibration text", text);
        Assert.Contains("== evaluate W8A8 against FP on held-out text", text);
        foreach (string precision in new[] { "full precision", "W8A8" })
        {
            string continuation = text.Split($"== generate in {precision} (greedy): The GNU General Public License")[1].Split("==")[0];
            // English words the model learned from the GNU manuals: a greedy continuation that reads as text, not noise.
            Assert.Matches(@"\b(GNU|License|the|of)\b", continuation);
        }

        var match = System.Text.RegularExpressions.Regex.Match(text, @"perplexity ([0-9.]+) → ([0-9.]+)");
        Assert.True(match.Success, text);
        double fp = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double w8a8 = double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(fp, 5, 60);
        Assert.InRange(w8a8 / fp, 0.95, 1.05);
    }
}
