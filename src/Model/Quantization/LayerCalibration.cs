using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The "collect" step for one decoder layer: watches the layer's four linear inputs as calibration batches pass and
/// accumulates their statistics, plus a fixed-size reservoir of input rows to measure the served (W8A8) error on.
/// </summary>
public sealed class LayerCalibration : ILinearInputObserver
{
    /// <summary>Rows kept per input for the error table: enough to rank methods, small enough to hold for every layer.</summary>
    public const int SampleRows = 256;

    private readonly Dictionary<LinearInput, LinearInputStatistics> _statistics = new();
    private readonly Dictionary<LinearInput, List<float[]>> _samples = new();
    private readonly Dictionary<LinearInput, long> _seen = new();
    private readonly Random _reservoir;

    public LayerCalibration(int layer, ModelConfig config)
    {
        Layer = layer;
        _reservoir = new Random(layer);
        int attention = config.NumAttentionHeads * config.HeadDim;
        foreach (var (input, width) in new[]
                 {
                     (LinearInput.Attention, config.HiddenSize), (LinearInput.AttentionOutput, attention),
                     (LinearInput.Mlp, config.HiddenSize), (LinearInput.MlpDown, config.IntermediateSize),
                 })
        {
            _statistics[input] = new LinearInputStatistics(width);
            _samples[input] = [];
            _seen[input] = 0;
        }
    }

    public int Layer { get; }

    public long Tokens => _statistics[LinearInput.Attention].Tokens;

    public LinearInputStatistics Statistics(LinearInput input) => _statistics[input];

    /// <summary>Up to <see cref="SampleRows"/> input rows, drawn uniformly from all tokens seen.</summary>
    public IReadOnlyList<float[]> Samples(LinearInput input) => _samples[input];

    public void Observe(LinearInput input, DeviceTensor activations)
    {
        var values = activations.ToArray<float>();
        _statistics[input].Accumulate(values, activations.Rows, activations.Device.Parallelism);
        Keep(input, values, activations.Rows, activations.Columns);
    }

    // Reservoir sampling (Vitter's algorithm R), seeded per layer so a run is repeatable.
    private void Keep(LinearInput input, float[] values, int rows, int width)
    {
        var list = _samples[input];
        long seen = _seen[input];
        for (int t = 0; t < rows; t++, seen++)
        {
            int slot = list.Count < SampleRows ? list.Count : (int)_reservoir.NextInt64(seen + 1);
            if (slot < SampleRows)
            {
                var row = values.AsSpan(t * width, width).ToArray();
                if (slot == list.Count)
                {
                    list.Add(row);
                }
                else
                {
                    list[slot] = row;
                }
            }
        }

        _seen[input] = seen;
    }
}
