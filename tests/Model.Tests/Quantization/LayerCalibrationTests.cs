using System.Numerics.Tensors;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>
/// Calibration with its statistics on the device collects exactly what the host collection did: the same |x|max, the
/// same Hessian bits and the same reservoir rows in the same slots, though only the kept rows leave the device.
/// </summary>
public sealed class LayerCalibrationTests
{
    private static readonly ModelConfig Config = new()
    {
        Architecture = "LlamaForCausalLM", ModelType = "llama", VocabSize = 32, HiddenSize = 24, IntermediateSize = 40,
        NumHiddenLayers = 4, NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 8, RmsNormEps = 1e-5,
    };

    // Batches that fill the reservoir in the middle of one, replace rows appended earlier in that same batch, and then
    // replace ever more rarely; an empty batch and a one-row batch on the way.
    private static readonly int[] Batches = [100, 200, 0, 1, 700, 33, 1500];

    [Fact]
    public void StatisticsAndSamplesEqualTheHostCollection()
    {
        using var device = new CpuDevice();
        using var calibration = new LayerCalibration(3, Config, device);
        var legacy = new HostCollection(3, Config);
        var random = new Random(11);
        foreach (int tokens in Batches)
        {
            foreach (var input in Enum.GetValues<LinearInput>())
            {
                int width = legacy.Width(input);
                var values = Enumerable.Range(0, tokens * width)
                    .Select(k => k % 7 == 0 ? 0f : (float)((random.NextDouble() * 2 - 1) * (k % width == 1 ? 30 : 1))).ToArray();
                using var activations = device.UploadNew<float>(values, tokens, width);
                calibration.Observe(input, activations);
                legacy.Observe(input, values, tokens);
            }
        }

        Assert.Equal(Batches.Sum(), calibration.Tokens);
        foreach (var input in Enum.GetValues<LinearInput>())
        {
            var statistics = calibration.Statistics(input);
            Assert.Equal(legacy.AbsMax[input], statistics.AbsMax);
            using (var hessian = statistics.Hessian())
            {
                Assert.Equal(legacy.Hessian(input), hessian.ToArray<double>());
            }

            var samples = calibration.Samples(input);
            Assert.Equal(LayerCalibration.SampleRows, samples.Count);
            Assert.Equal(legacy.Samples[input].Count, samples.Count);
            for (int s = 0; s < samples.Count; s++)
            {
                Assert.Equal(legacy.Samples[input][s], samples[s]);
            }
        }
    }

    [Fact]
    public void DisposingFreesTheDeviceStatistics()
    {
        using var device = new CpuDevice();
        var calibration = new LayerCalibration(0, Config, device);
        var statistics = calibration.Statistics(LinearInput.MlpDown);
        calibration.Dispose();
        Assert.Throws<ObjectDisposedException>(() => statistics.Hessian().Dispose());
    }

    /// <summary>LayerCalibration and LinearInputStatistics as they were when every batch was downloaded whole.</summary>
    private sealed class HostCollection
    {
        private readonly Dictionary<LinearInput, int> _widths;
        private readonly Dictionary<LinearInput, double[]> _sums = [];
        private readonly Dictionary<LinearInput, long> _tokens = [];
        private readonly Dictionary<LinearInput, long> _seen = [];
        private readonly Random _reservoir;

        public HostCollection(int layer, ModelConfig config)
        {
            _reservoir = new Random(layer);
            _widths = new()
            {
                [LinearInput.Attention] = config.HiddenSize, [LinearInput.AttentionOutput] = config.NumAttentionHeads * config.HeadDim,
                [LinearInput.Mlp] = config.HiddenSize, [LinearInput.MlpDown] = config.IntermediateSize,
            };
            foreach (var (input, width) in _widths)
            {
                AbsMax[input] = new double[width];
                _sums[input] = new double[width * width];
                _tokens[input] = 0;
                _seen[input] = 0;
                Samples[input] = [];
            }
        }

        public Dictionary<LinearInput, double[]> AbsMax { get; } = [];

        public Dictionary<LinearInput, List<float[]>> Samples { get; } = [];

        public int Width(LinearInput input) => _widths[input];

        public void Observe(LinearInput input, float[] values, int tokens)
        {
            int n = _widths[input];
            var absMax = AbsMax[input];
            var sums = _sums[input];
            var rows = new double[tokens * n];
            for (int k = 0; k < rows.Length; k++)
            {
                rows[k] = values[k];
                int c = k % n;
                absMax[c] = Math.Max(absMax[c], Math.Abs(rows[k]));
            }

            Parallel.For(0, n, i =>
            {
                var target = sums.AsSpan(i * n + i, n - i);
                for (int t = 0; t < tokens; t++)
                {
                    double xi = rows[t * n + i];
                    if (xi != 0)
                    {
                        TensorPrimitives.MultiplyAdd<double>(rows.AsSpan(t * n + i, n - i), xi, target, target);
                    }
                }
            });
            _tokens[input] += tokens;

            var list = Samples[input];
            long seen = _seen[input];
            for (int t = 0; t < tokens; t++, seen++)
            {
                int slot = list.Count < LayerCalibration.SampleRows ? list.Count : (int)_reservoir.NextInt64(seen + 1);
                if (slot < LayerCalibration.SampleRows)
                {
                    var row = values.AsSpan(t * n, n).ToArray();
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

        public double[] Hessian(LinearInput input)
        {
            int n = _widths[input];
            var h = new double[n * n];
            double factor = _tokens[input] == 0 ? 0 : 2.0 / _tokens[input];
            for (int i = 0; i < n; i++)
            {
                for (int j = i; j < n; j++)
                {
                    double v = _sums[input][i * n + j] * factor;
                    h[i * n + j] = v;
                    h[j * n + i] = v;
                }
            }

            return h;
        }
    }
}
