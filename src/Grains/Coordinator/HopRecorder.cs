using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The coordinator's record of its serving hops: per kind, a count, running sums of wall, compute and layers, and the
/// overheads (wall − compute) of the most recent <see cref="Window"/> hops, for percentiles. Always on: a hop costs two
/// timestamps, a lock nobody contends (the coordinator's calls continue on its one thread) and a slot in a fixed
/// array — nanoseconds beside a grain call's microseconds, and no log line or allocation per token — so a running
/// model can be asked for its Orleans cost at any time instead of being restarted with a flag.
/// </summary>
internal sealed class HopRecorder
{
    /// <summary>Token embedding on the coordinator's device.</summary>
    public const string Embed = "embed";

    /// <summary>One call through a stage: consecutive layer grains on one device.</summary>
    public const string Stage = "stage";

    /// <summary>Final norm and lm_head on the coordinator's device.</summary>
    public const string Head = "head";

    /// <summary>Overheads kept per kind for percentiles: more than a bench run's steps, a few tens of kB in all.</summary>
    public const int Window = 8192;

    private static readonly string[] s_kinds = [Embed, Stage, Head];
    private readonly object _gate = new();
    private readonly Dictionary<string, Series> _series = s_kinds.ToDictionary(k => k, _ => new Series());
    private long _steps;

    public void Record(string kind, TimeSpan wall, TimeSpan compute, int layers = 0)
    {
        var series = _series[kind];
        lock (_gate)
        {
            series.Add(wall.TotalMilliseconds, compute.TotalMilliseconds, layers);
        }
    }

    /// <summary>Counts one generation step (its hops are recorded as they are made).</summary>
    public void Step() => Interlocked.Increment(ref _steps);

    public void Reset()
    {
        lock (_gate)
        {
            foreach (var series in _series.Values)
            {
                series.Clear();
            }

            Interlocked.Exchange(ref _steps, 0);
        }
    }

    public ServingTimes Snapshot()
    {
        lock (_gate)
        {
            return new ServingTimes(Interlocked.Read(ref _steps), s_kinds.Select(k => _series[k].Times(k)).ToArray());
        }
    }

    private sealed class Series
    {
        private readonly double[] _recent = new double[Window];
        private long _count;
        private double _wall, _compute, _layers;

        public void Add(double wallMs, double computeMs, int layers)
        {
            _recent[_count % Window] = wallMs - computeMs;
            _count++;
            _wall += wallMs;
            _compute += computeMs;
            _layers += layers;
        }

        public void Clear() => (_count, _wall, _compute, _layers) = (0, 0, 0, 0);

        public HopTimes Times(string kind)
        {
            if (_count == 0)
            {
                return new HopTimes(kind, 0, 0, 0, 0, 0, 0, 0);
            }

            var recent = _recent.AsSpan(0, (int)Math.Min(_count, Window)).ToArray();
            Array.Sort(recent);
            return new HopTimes(kind, _count, _layers / _count, _wall / _count, _compute / _count, (_wall - _compute) / _count,
                Percentile(recent, 0.50), Percentile(recent, 0.99));
        }

        /// <summary>Nearest rank: the smallest value with at least <paramref name="p"/> of the values at or below it.</summary>
        private static double Percentile(double[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
