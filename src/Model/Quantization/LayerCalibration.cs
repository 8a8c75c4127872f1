using System.Buffers;
using System.Runtime.InteropServices;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The "collect" step for one decoder layer: watches the layer's four linear inputs as calibration batches pass and
/// accumulates their statistics on the layer's device, plus a fixed-size reservoir of input rows to measure the served
/// (W8A8) error on. Owns device memory: dispose it (on the device's worker) when the layer drops it.
/// </summary>
public sealed class LayerCalibration : ILinearInputObserver, IDisposable
{
    /// <summary>Rows kept per input for the error table: enough to rank methods, small enough to hold for every layer.</summary>
    public const int SampleRows = 256;

    private readonly IComputeDevice _device;
    private readonly Dictionary<LinearInput, LinearInputStatistics> _statistics = new();
    private readonly Dictionary<LinearInput, List<float[]>> _samples = new();
    private readonly Dictionary<LinearInput, long> _seen = new();
    private readonly Random _reservoir;

    // Per batch, reused so a batch allocates only the rows it keeps: the batch row that ends up in each reservoir slot
    // (-1: untouched), and the touched slots, put in batch-row order before the rows are gathered.
    private readonly int[] _winner = new int[SampleRows];
    private readonly List<int> _entering = new(SampleRows);
    private readonly Comparison<int> _byWinner;

    /// <param name="inputType">what the layer's full-precision linears see their inputs as (see <see cref="LinearInputStatistics"/>).</param>
    public LayerCalibration(int layer, ModelConfig config, IComputeDevice device, TensorType inputType = TensorType.Float32)
    {
        Layer = layer;
        _device = device;
        _reservoir = new Random(layer);
        Array.Fill(_winner, -1);
        _byWinner = (a, b) => _winner[a].CompareTo(_winner[b]);
        int attention = config.NumAttentionHeads * config.HeadDim;
        try
        {
            foreach (var (input, width) in new[]
                     {
                         (LinearInput.Attention, config.HiddenSize), (LinearInput.AttentionOutput, attention),
                         (LinearInput.Mlp, config.HiddenSize), (LinearInput.MlpDown, config.IntermediateSize),
                     })
            {
                _statistics[input] = new LinearInputStatistics(device, width, inputType);
                _samples[input] = [];
                _seen[input] = 0;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Empty statistics for <paramref name="layer"/>, taken of its inputs as its full-precision linears see them: those
    /// in service, or, once int8 weights serve, the kept copy a re-quantization builds from (<paramref name="source"/>).
    /// </summary>
    public static LayerCalibration For(DecoderLayer layer, FullPrecisionCopy? source = null) =>
        new(layer.Index, layer.Config, layer.Device, source?.WeightType ?? layer.Weights.FloatWeightType);

    public int Layer { get; }

    public long Tokens => _statistics[LinearInput.Attention].Tokens;

    public LinearInputStatistics Statistics(LinearInput input) => _statistics[input];

    /// <summary>Up to <see cref="SampleRows"/> input rows, drawn uniformly from all tokens seen.</summary>
    public IReadOnlyList<float[]> Samples(LinearInput input) => _samples[input];

    public void Observe(LinearInput input, DeviceTensor activations)
    {
        _statistics[input].Accumulate(activations);
        Keep(input, activations);
    }

    // Reservoir sampling (Vitter's algorithm R), seeded per layer so a run is repeatable. Which rows enter depends only
    // on the running count and the Random, never on the values, so the draws are made here in row order, exactly as a
    // row-by-row pass would make them, and only the rows that end up kept come back from the device.
    private void Keep(LinearInput input, DeviceTensor activations)
    {
        var list = _samples[input];
        long seen = _seen[input];
        int count = list.Count;
        _entering.Clear();
        for (int t = 0; t < activations.Rows; t++, seen++)
        {
            int slot = count < SampleRows ? count : (int)_reservoir.NextInt64(seen + 1);
            if (slot >= SampleRows)
            {
                continue;
            }

            if (slot == count)
            {
                count++;
            }

            // A later row of this batch may take the same slot again; only the last one is worth bringing back.
            if (_winner[slot] < 0)
            {
                _entering.Add(slot);
            }

            _winner[slot] = t;
        }

        _seen[input] = seen;
        if (_entering.Count == 0)
        {
            return;
        }

        try
        {
            _entering.Sort(_byWinner);
            var rows = Download(activations);
            int width = activations.Columns;

            // Every new slot was touched, so none stays empty; an appended row may have been replaced later in the
            // batch, which is why slots are filled by index rather than appended in row order.
            CollectionsMarshal.SetCount(list, count);
            for (int k = 0; k < _entering.Count; k++)
            {
                list[_entering[k]] = rows.AsSpan(k * width, width).ToArray();
            }

            ArrayPool<float>.Shared.Return(rows);
        }
        finally
        {
            foreach (int slot in _entering)
            {
                _winner[slot] = -1;
            }
        }
    }

    /// <summary>
    /// The winning rows, in batch-row order, gathered on the device (consecutive rows in one copy) and downloaded in
    /// one read. The caller returns the pooled array.
    /// </summary>
    private float[] Download(DeviceTensor activations)
    {
        int width = activations.Columns;
        using var kept = _device.Allocate(activations.Type, _entering.Count, width);
        int k = 0;
        while (k < _entering.Count)
        {
            int start = k;
            while (k + 1 < _entering.Count && _winner[_entering[k + 1]] == _winner[_entering[k]] + 1)
            {
                k++;
            }

            k++;
            _device.CopyRows(activations, _winner[_entering[start]], kept, start, k - start);
        }

        var rows = ArrayPool<float>.Shared.Rent(_entering.Count * width);
        kept.DownloadFloats(rows.AsSpan(0, _entering.Count * width));
        return rows;
    }

    public void Dispose()
    {
        foreach (var statistics in _statistics.Values)
        {
            statistics.Dispose();
        }
    }
}
