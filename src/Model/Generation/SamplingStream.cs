using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// The host half of sampling for one sequence: its validated options and its own seeded stream of uniform draws.
/// Each step it gives the <see cref="SamplingRow"/> the device picks this sequence's token with
/// (<see cref="IComputeDevice.SampleTokens"/>: temperature → top-k → top-p → the draw), so a seeded sequence gets the same
/// tokens whatever else shares its batch and wherever its head runs.
/// </summary>
public sealed class SamplingStream
{
    private readonly SamplingOptions _options;
    private readonly Random _random;

    public SamplingStream(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
    }

    /// <summary>This step's row; greedy steps take no draw, so they leave the stream where it was.</summary>
    public SamplingRow Next() =>
        _options.IsGreedy
            ? SamplingRow.Greedy
            : new SamplingRow(_options.Temperature, _options.TopK, _options.TopP, _random.NextDouble());
}
