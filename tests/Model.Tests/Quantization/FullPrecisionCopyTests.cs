using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>The full-precision weights kept for re-quantization, on the device or parked in host memory (<see cref="FullPrecisionCopy"/>).</summary>
public sealed class FullPrecisionCopyTests
{
    [Fact]
    public void Parked_weights_come_back_bit_for_bit_and_the_device_copy_is_freed()
    {
        using var device = new CpuDevice();
        using var source = ModelSource.Open(TestModels.Directory(DemoModels.TinyQwen2));
        var weights = source.LoadLayer(1, device);
        var expected = Snapshot(weights);
        using var copy = FullPrecisionCopy.Of(weights);
        Assert.True(copy.Holds(weights));

        Assert.True(copy.LeftService(device, FullPrecisionPlacement.Host));
        Assert.True(copy.IsOnHost);
        Assert.True(weights.InputNorm.IsDisposed);
        Assert.False(copy.Holds(weights));

        DecoderLayerWeights? restored = null;
        var actual = copy.Use(device, w =>
        {
            restored = w;
            return Snapshot(w);
        });
        Assert.Equal(expected, actual);
        Assert.True(restored!.InputNorm.IsDisposed, "a restored copy lives only for the call");

        // Still parked, and usable again.
        Assert.Equal(expected, copy.Use(device, Snapshot));
    }

    [Fact]
    public void On_a_cpu_device_auto_keeps_the_copy_where_it_is_and_in_service_it_stays_the_layers()
    {
        using var device = new CpuDevice();
        using var source = ModelSource.Open(TestModels.Directory(DemoModels.Tiny));
        using var weights = source.LoadLayer(0, device);
        var copy = FullPrecisionCopy.Of(weights);
        Assert.Same(weights, copy.Use(device, w => w));
        copy.Dispose();
        Assert.False(weights.InputNorm.IsDisposed, "weights in service belong to the layer");

        var kept = FullPrecisionCopy.Of(weights);
        Assert.False(kept.LeftService(device, FullPrecisionPlacement.Auto));
        Assert.False(kept.IsOnHost);
        kept.Dispose();
        Assert.True(weights.InputNorm.IsDisposed, "out of service the copy owns them");
    }

    [Fact]
    public async Task A_quantized_layer_is_refused_as_a_full_precision_copy()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        using var runner = new LocalLayerRunner(model.Layers[0], FullPrecisionPlacement.Host);
        await Calibrate(runner, model);
        await runner.Build(QuantizationRecipe.Default, CancellationToken.None);
        await runner.Commit();
        var error = Assert.Throws<InvalidOperationException>(() => FullPrecisionCopy.Of(model.Layers[0].Weights));
        Assert.Contains("already quantized", error.Message);
    }

    [Theory]
    [InlineData(FullPrecisionPlacement.Device)]
    [InlineData(FullPrecisionPlacement.Host)]
    public async Task A_re_quantization_after_a_commit_starts_from_the_kept_weights_wherever_they_are(FullPrecisionPlacement placement)
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        using var runner = new LocalLayerRunner(model.Layers[2], placement);
        await Calibrate(runner, model);
        var first = await runner.Build(QuantizationRecipe.Default, CancellationToken.None);
        var built = Int8Codes(runner.Weights(WeightSet.Pending));
        await runner.Commit();

        // The same statistics, rebuilt from the kept weights (parked in host memory or not): the same int8 layer.
        var second = await runner.Build(QuantizationRecipe.Default, CancellationToken.None);
        Assert.Equal(built, Int8Codes(runner.Weights(WeightSet.Pending)));
        Assert.Equal(first.Linears.Select(l => l.W8A8Error), second.Linears.Select(l => l.W8A8Error));
        Assert.Equal(2, await runner.Commit());
    }

    [Fact]
    public async Task After_a_commit_statistics_are_taken_as_the_kept_bf16_linears_see_their_inputs()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device, precision: WeightPrecision.BFloat16);
        using var runner = new LocalLayerRunner(model.Layers[1], FullPrecisionPlacement.Host);
        await Calibrate(runner, model);
        await runner.Build(QuantizationRecipe.Default, CancellationToken.None);
        await runner.Commit();
        Assert.Equal(TensorType.Float32, model.Layers[1].Weights.FloatWeightType); // every linear int8 now

        await runner.BeginCalibration();
        float[] values = [0.1f, -1.0039063f, 2.0078125f, 3.3333333f];
        float[] row = Enumerable.Range(0, model.Config.HiddenSize).Select(i => values[i % values.Length] * (1 + i / 64f)).ToArray();
        using var input = device.UploadNew<float>(row, 1, row.Length);
        runner.Calibration!.Observe(LinearInput.Attention, input);
        Assert.Equal(row.Select(v => (double)Math.Abs(BFloat16.Round(v))).ToArray(), runner.Calibration.Statistics(LinearInput.Attention).AbsMax);
    }

    private static async Task Calibrate(LocalLayerRunner runner, CausalLanguageModel model)
    {
        await runner.BeginCalibration();
        var random = new Random(7);
        float[] hidden = Enumerable.Range(0, 24 * model.Config.HiddenSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var input = model.Device.UploadFloats(hidden, 24, model.Config.HiddenSize, runner.Layer.ActivationType);
        runner.Layer.Forward(input, ForwardBatch.Single(99, 24), runner.Calibration);
        runner.Layer.EndSequence(99);
    }

    private static List<float[]> Snapshot(DecoderLayerWeights weights)
    {
        var values = new List<float[]> { weights.InputNorm.ToFloats(), weights.PostAttentionNorm.ToFloats() };
        foreach (var slot in LinearSlot.All)
        {
            var linear = (FloatLinear)slot.Get(weights);
            values.Add(linear.Weight.ToFloats());
            values.Add(linear.Bias?.ToFloats() ?? []);
        }

        return values;
    }

    private static List<sbyte[]> Int8Codes(DecoderLayerWeights weights) =>
        LinearSlot.All.Select(slot => ((Int8Linear)slot.Get(weights)).Weight.ToArray<sbyte>()).ToList();
}
