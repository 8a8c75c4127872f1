using OrleansQuant.Contracts;

namespace OrleansQuant.Silo;

/// <summary>
/// Tells a cluster quantization job's progress as it streams in: a line that advances per self-calibration wave, a
/// header and a line that advances per calibration batch, a header and a line that advances per finished layer (with
/// its W8A8 error before and after), a still-working note on each heartbeat, a note when the job starts again after a
/// silo left with layers (the attempt's events are dropped then), then the outcome. When the output is not
/// a terminal that is one line per wave, batch and layer, no more (heartbeats are only shown on a terminal).
/// </summary>
/// <param name="calibrationHeader">printed when the first calibration batch has passed.</param>
/// <param name="quantizationHeader">printed when the first layer has finished.</param>
internal sealed class QuantizationProgressView(TextWriter output, StatusLine line, string calibrationHeader, string quantizationHeader)
{
    private readonly List<JobEvent> _events = new();
    private string? _header;

    /// <summary>Every event shown so far, for the per-layer table afterwards.</summary>
    public IReadOnlyList<JobEvent> Events => _events;

    /// <summary>How the job ended: "done", or "failed"/"cancelled" with the reason.</summary>
    public string? Outcome { get; private set; }

    public bool Succeeded => Outcome == "done";

    public void Show(JobEvent e)
    {
        if (e.Stage == "heartbeat")
        {
            line.Heartbeat($"  … {e.Message} {e.Done}/{e.Total}, {e.ElapsedSeconds:F0}s");
            return;
        }

        if (e.Stage == "restart")
        {
            // The attempt before it was discarded whole: what it reported is not what the model serves.
            line.Finish();
            output.WriteLine($"  {e.Message} (attempt {e.Done + 1} of {e.Total})");
            _events.Clear();
            _header = null;
            return;
        }

        _events.Add(e);
        if (e.Stage == "sample")
        {
            line.Update(e.Done == 0
                ? $"  drawing {e.Total} calibration samples from the model, through the cluster"
                : $"  drew {e.Done}/{e.Total} calibration samples from the model at {e.ElapsedSeconds:F1}s");
        }
        else if (e.Layer is int layer && !e.IsFinal)
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
            Outcome = e.Stage == "done" ? e.Stage : $"{e.Stage}: {e.Message}";
            output.WriteLine(Succeeded
                ? $"  all {e.Done} layers quantized in {e.ElapsedSeconds:F1}s"
                : $"  quantization {Outcome} ({e.ElapsedSeconds:F1}s; every layer kept the weights it served)");
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
