using OrleansQuant.Gpu;

namespace OrleansQuant.Silo.Bench;

/// <summary>
/// The most memory each device had in use (total − free) while a run went on, read once a second beside it: a
/// measured peak to set against <see cref="QuantizeMemoryEstimate"/>. Polling can miss a peak shorter than a second.
/// </summary>
internal sealed class DeviceMemoryPoll : IDisposable
{
    private readonly IReadOnlyList<IComputeDevice> _devices;
    private readonly long[] _peaks;
    private readonly Timer _timer;
    private readonly Lock _gate = new();

    public DeviceMemoryPoll(IReadOnlyList<IComputeDevice> devices)
    {
        _devices = devices;
        _peaks = new long[devices.Count];
        _timer = new Timer(_ => Read(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    /// <summary>The peaks so far, read once more now so a run shorter than the period still counts.</summary>
    public IReadOnlyList<long> Peaks()
    {
        Read();
        lock (_gate)
        {
            return _peaks.ToArray();
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Read()
    {
        lock (_gate)
        {
            for (int i = 0; i < _devices.Count; i++)
            {
                var info = _devices[i].Info;
                _peaks[i] = Math.Max(_peaks[i], info.TotalMemoryBytes - info.FreeMemoryBytes);
            }
        }
    }
}
