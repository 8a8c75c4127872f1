using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansQuant.Grains.Telemetry;

namespace OrleansQuant.Grains.Tests.Persistence;

/// <summary>
/// The values one of OrleansQuant's histograms records for one model while this lives: the silos of a test cluster run
/// in this process, so what they record is seen here without a call to any grain.
/// </summary>
internal sealed class ModelMetric : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly TaskCompletionSource<double> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ModelMetric(string instrument, string model)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == OrleansQuantMetrics.MeterName && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Value as string == model)
                {
                    Values.Add(value);
                    _first.TrySetResult(value);
                }
            }
        });
        _listener.Start();
    }

    public ConcurrentBag<double> Values { get; } = new();

    /// <summary>The first value recorded, waiting up to <paramref name="limit"/> for it.</summary>
    public Task<double> First(TimeSpan limit) => _first.Task.WaitAsync(limit);

    public void Dispose() => _listener.Dispose();
}
