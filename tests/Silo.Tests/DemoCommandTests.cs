using System.CommandLine;
using OrleansQuant.Silo.Commands;

namespace OrleansQuant.Silo.Tests;

/// <summary>`orleansquant demo` end to end on the tiny model: a local silo, quantization, generation, evaluation.</summary>
public sealed class DemoCommandTests
{
    [Fact]
    public async Task DemoTellsTheWholeStory()
    {
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        int exit;
        try
        {
            exit = await new RootCommand { DemoCommand.Create() }
                .Parse(["demo", "--model", "tiny", "--samples", "6", "--max-tokens", "24", "--prompt", "hello", "--silo-port", "11411", "--gateway-port", "30411"])
                .InvokeAsync();
        }
        finally
        {
            Console.SetOut(original);
        }

        string text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("== load tiny", text);
        Assert.Contains("layer  ", text);
        Assert.Contains("W8A8 error before (RTN)", text);
        Assert.Contains("done 4/4", text);
        Assert.Contains("== generate: hello", text);
        Assert.Matches(@"W8A8 vs FP on \d+ held-out tokens: KL [0-9.E+-]+ per token, top-1 agreement [0-9.]+ %", text);
    }
}
