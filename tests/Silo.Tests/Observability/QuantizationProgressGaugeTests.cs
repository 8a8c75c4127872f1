using System.Diagnostics.Metrics;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Telemetry;

namespace OrleansQuant.Silo.Tests.Observability;

/// <summary>
/// <c>orleansquant.quantization.progress</c> (docs/OBSERVABILITY.md) read as an exporter reads it: a
/// <see cref="MeterListener"/> collecting the observable gauge, here at every event of a quantization job.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class QuantizationProgressGaugeTests(ObservabilityFixture fixture)
{
    // A model of its own, so the fixture's measurements of its model stay the fixture's alone.
    private const string Model = "gauged";

    [Fact]
    public async Task TheGaugeRisesInStepsOfOneLayerFromZeroToOne()
    {
        var status = await fixture.Sdk.LoadAsync(Model, "tiny");
        int layers = status.Layers.Count;
        var seen = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument is { Name: "orleansquant.quantization.progress" } && instrument.Meter.Name == OrleansQuantMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: OrleansQuantMetrics.ModelTag, Value: Model })
                {
                    seen.Add(value);
                }
            }
        });
        listener.Start();

        listener.RecordObservableInstruments();
        Assert.Empty(seen);

        // Sequential: each layer is calibrated on the quantized ones before it, so one layer's step is seen before the next.
        var events = new List<JobEvent>();
        await foreach (var e in fixture.Sdk.QuantizeAsync(Model, new QuantizeRequest(Calibration: "self", SampleCount: 6, MaxTokens: 24, Mode: ClusterQuantizationMode.Sequential)))
        {
            events.Add(e);
            listener.RecordObservableInstruments();
        }

        listener.RecordObservableInstruments();
        Assert.Equal("done", events[^1].Stage);
        Assert.Equal(0, seen[0]);
        Assert.Equal(1, seen[^1]);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First <= p.Second), $"the gauge went down: {string.Join(", ", seen)}");
        Assert.All(seen, v => Assert.Contains(v, Enumerable.Range(0, layers + 1).Select(k => (double)k / layers)));
        Assert.Contains(seen, v => v is > 0 and < 1);
    }
}
