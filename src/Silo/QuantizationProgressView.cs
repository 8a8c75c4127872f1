using OrleansQuant.Contracts;

namespace OrleansQuant.Silo;

/// <summary>
/// Tells a cluster quantization's progress as it streams in: a header and a line that advances per calibration
/// batch, a header and a line that advances per finished layer (with its W8A8 error before and after), then the
/// outcome. When the output is not a terminal that is one line per batch and one per layer, no more.
/// </summary>
/// <param name="calibrationHeader">printed when the first calibration batch has passed.</param>
/// <param name="quantizationHeader">printed when the first layer has finished.</param>
internal sealed class QuantizationProgressView(TextWriter output, StatusLine line, string calibrationHeader, string quantizationHeader)
{
    private readonly List<QuantizationEvent> _events = new();
    private string? _header;

    /// <summary>Every event shown so far, for the per-layer table afterwards.</summary>
    public IReadOnlyList<QuantizationEvent> Events => _events;

    /// <summary>The stage of the closing event (one without a layer that is not calibration): "done", or why it failed.</summary>
    public string? Outcome { get; private set; }

    public bool Succeeded => Outcome == "done";

    public void Show(QuantizationEvent e)
    {
        _events.Add(e);
        if (e.Layer is int layer)
        {
            Enter(quantizationHeader);
            string errors = e.ErrorBefore is double before && e.ErrorAfter is double after
                ? $"W8A8 error {before:0.000E+00} → {after:0.000E+00}"
                : e.Stage;
            line.Update($"  {e.Done}/{e.Total} layers done at {e.ElapsedSeconds:F1}s; layer {layer}: {errors}");
        }
        else if (e.Stage == "calibrate")
        {
            Enter(calibrationHeader);
            line.Update($"  batch {e.Done}/{e.Total} at {e.ElapsedSeconds:F1}s");
        }
        else
        {
            line.Finish();
            Outcome = e.Stage;
            output.WriteLine(Succeeded
                ? $"  all {e.Done} layers quantized in {e.ElapsedSeconds:F1}s"
                : $"  quantization {e.Stage} ({e.Done}/{e.Total} layers succeeded, {e.ElapsedSeconds:F1}s)");
        }
    }

    // A new stage starts on a line of its own, under its header.
    private void Enter(string header)
    {
        if (_header == header)
        {
            return;
        }

        line.Finish();
        output.WriteLine(header);
        _header = header;
    }
}
