using System.Diagnostics;

namespace OrleansQuant.Silo.Bench;

/// <summary>
/// When each sequence's tokens arrived, from one start for all. Each sequence is written by one caller at a time (its
/// own stream, or the generator's callback), so the lists need no lock.
/// </summary>
internal sealed class TokenTimeline
{
    private readonly List<long>[] _times;
    private readonly List<int>[] _ids;
    private long _start;

    public TokenTimeline(int sequences)
    {
        _times = Enumerable.Range(0, sequences).Select(_ => new List<long>()).ToArray();
        _ids = Enumerable.Range(0, sequences).Select(_ => new List<int>()).ToArray();
    }

    public void Start() => _start = Stopwatch.GetTimestamp();

    public void Add(int sequence, int token)
    {
        _times[sequence].Add(Stopwatch.GetTimestamp());
        _ids[sequence].Add(token);
    }

    public ServingPath Result()
    {
        int tokens = _ids.Sum(ids => ids.Count);
        if (_times.Any(t => t.Count == 0))
        {
            throw new InvalidOperationException($"sequence {Array.FindIndex(_times, t => t.Count == 0)} produced no token");
        }

        double seconds = Stopwatch.GetElapsedTime(_start, _times.Max(t => t[^1])).TotalSeconds;
        var firsts = _times.Select(t => Ms(_start, t[0])).ToArray();
        var gaps = _times.SelectMany(t => t.Zip(t.Skip(1), Ms)).ToArray();
        return new ServingPath(tokens, seconds, tokens / seconds, Percentile(firsts, 0.50), Percentile(gaps, 0.50), Percentile(gaps, 0.99),
            _ids.Select(ids => (IReadOnlyList<int>)ids.ToArray()).ToArray());
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>Nearest rank; 0 for no values (one token per sequence has no gaps).</summary>
    private static double Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        Array.Sort(values);
        return values[Math.Max(0, (int)Math.Ceiling(p * values.Length) - 1)];
    }
}
