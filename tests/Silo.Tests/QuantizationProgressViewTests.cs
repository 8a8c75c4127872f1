using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Tests;

/// <summary>The demo's quantization progress: one line per batch and per layer to a file, one advancing line on a terminal.</summary>
public sealed class QuantizationProgressViewTests
{
    private static readonly QuantizationEvent[] s_events =
    [
        new("calibrate", 1, 2, 0.5),
        new("calibrate", 2, 2, 1.0),
        new("quantize", 1, 2, 1.5, Layer: 1, ErrorBefore: 4e-3, ErrorAfter: 5e-5),
        new("quantize", 2, 2, 1.7, Layer: 0, ErrorBefore: 7e-3, ErrorAfter: 6e-5),
        new("done", 2, 2, 1.8),
    ];

    [Fact]
    public void RedirectedOutputGetsOneLinePerBatchAndPerLayer()
    {
        var output = new StringWriter();
        var view = new QuantizationProgressView(output, new StatusLine(output, inPlace: false), "== calibrate", "== quantize");

        foreach (var e in s_events)
        {
            view.Show(e);
        }

        Assert.Equal(
            [
                "== calibrate",
                "  batch 1/2 at 0.5s",
                "  batch 2/2 at 1.0s",
                "== quantize",
                "  1/2 layers done at 1.5s; layer 1: W8A8 error 4.000E-03 → 5.000E-05",
                "  2/2 layers done at 1.7s; layer 0: W8A8 error 7.000E-03 → 6.000E-05",
                "  all 2 layers quantized in 1.8s",
            ],
            output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.True(view.Succeeded);
        Assert.Equal(4, view.Events.Count(e => e.Stage != "done"));
    }

    [Fact]
    public void ATerminalGetsOneLinePerStageRewrittenInPlace()
    {
        var output = new StringWriter();
        var view = new QuantizationProgressView(output, new StatusLine(output, inPlace: true), "== calibrate", "== quantize");

        foreach (var e in s_events)
        {
            view.Show(e);
        }

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal("\r  batch 1/2 at 0.5s\r  batch 2/2 at 1.0s", lines[1]);
        Assert.EndsWith("\r  2/2 layers done at 1.7s; layer 0: W8A8 error 7.000E-03 → 6.000E-05", lines[3]);
    }

    [Fact]
    public void AFailureIsTheOutcome()
    {
        var output = new StringWriter();
        var view = new QuantizationProgressView(output, new StatusLine(output, inPlace: false), "c", "q");

        view.Show(new QuantizationEvent("failed in 1 layer(s); no layer changed", 1, 2, 3.0));

        Assert.False(view.Succeeded);
        Assert.Contains("quantization failed in 1 layer(s); no layer changed (1/2 layers succeeded, 3.0s)", output.ToString());
    }
}
