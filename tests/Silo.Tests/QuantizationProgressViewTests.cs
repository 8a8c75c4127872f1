using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Tests;

/// <summary>The demo's quantization progress: one line per batch and per layer to a file, one advancing line on a terminal.</summary>
public sealed class QuantizationProgressViewTests
{
    private static readonly JobEvent[] s_events =
    [
        new("sample", 4, 4, 0.2),
        new("heartbeat", 4, 4, 0.3, Message: "sample"),
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
                "  drew 4/4 calibration samples from the model at 0.2s",
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
        Assert.Equal(5, view.Events.Count(e => e.Stage != "done"));
        Assert.DoesNotContain(view.Events, e => e.Stage == "heartbeat");
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
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("\r  drew 4/4 calibration samples from the model at 0.2s\r  … sample 4/4, 0s", lines[0]);
        Assert.Equal("\r  batch 1/2 at 0.5s\r  batch 2/2 at 1.0s", lines[2]);
        Assert.EndsWith("\r  2/2 layers done at 1.7s; layer 0: W8A8 error 7.000E-03 → 6.000E-05", lines[4]);
    }

    [Fact]
    public void AFailureIsTheOutcome()
    {
        var output = new StringWriter();
        var view = new QuantizationProgressView(output, new StatusLine(output, inPlace: false), "c", "q");

        view.Show(new JobEvent("failed", 1, 2, 3.0, Message: "layer 1: injected GPTQ failure"));

        Assert.False(view.Succeeded);
        Assert.Contains("quantization failed: layer 1: injected GPTQ failure (3.0s; every layer kept the weights it served)", output.ToString());
    }

    [Fact]
    public void ARestartIsToldAndTheDiscardedAttemptsLayersAreDropped()
    {
        var output = new StringWriter();
        var view = new QuantizationProgressView(output, new StatusLine(output, inPlace: false), "== calibrate", "== quantize");

        JobEvent[] events =
        [
            new("calibrate", 1, 1, 0.5),
            new("quantize", 1, 2, 1.5, Layer: 1, ErrorBefore: 4e-3, ErrorAfter: 5e-5),
            new("restart", 1, 3, 2.0, Message: "a silo left with layers of the model (gone); they were restored from the store and the quantize starts again"),
            new("calibrate", 1, 1, 2.5),
            new("quantize", 1, 2, 3.0, Layer: 0, ErrorBefore: 7e-3, ErrorAfter: 6e-5),
            new("quantize", 2, 2, 3.1, Layer: 1, ErrorBefore: 4e-3, ErrorAfter: 5e-5),
            new("done", 2, 2, 3.2),
        ];
        foreach (var e in events)
        {
            view.Show(e);
        }

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("  a silo left with layers of the model (gone); they were restored from the store and the quantize starts again (attempt 2 of 3)", lines[4]);
        Assert.Equal(["== calibrate", "  batch 1/1 at 2.5s", "== quantize"], lines[5..8]);
        Assert.True(view.Succeeded);
        Assert.Equal([0, 1], view.Events.Where(e => e.Layer is not null).Select(e => e.Layer!.Value).Order());
    }
}
