using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Inference;

/// <summary>Full-precision weights stored as bf16 (<see cref="WeightPrecision"/>): loading, the forward pass, calibration and quantization over them.</summary>
public sealed class BFloat16WeightsTests
{
    [Theory]
    [InlineData("auto", WeightPrecision.Auto)]
    [InlineData("BF16", WeightPrecision.BFloat16)]
    [InlineData("bfloat16", WeightPrecision.BFloat16)]
    [InlineData("fp32", WeightPrecision.Float32)]
    [InlineData("float32", WeightPrecision.Float32)]
    [InlineData(null, WeightPrecision.Auto)]
    public void Dtype_names_parse_as_vllm_spells_them(string? name, WeightPrecision expected) =>
        Assert.Equal(expected, WeightPrecisions.Parse(name));

    [Fact]
    public void An_unknown_dtype_is_refused_naming_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => WeightPrecisions.Parse("float16"));
        Assert.Contains("'float16'", error.Message);
        Assert.Contains("bfloat16", error.Message);
    }

    [Fact]
    public void Auto_is_float32_on_a_cpu_device()
    {
        using var device = new CpuDevice();
        Assert.Equal(TensorType.Float32, WeightPrecision.Auto.StorageOn(device));
        Assert.Equal(TensorType.BFloat16, WeightPrecision.BFloat16.StorageOn(device));
    }

    [Fact]
    public void A_bf16_checkpoint_loads_its_bytes_unchanged_and_norms_stay_float32()
    {
        // The demo model is stored as BF16, as Llama checkpoints are.
        string directory = TestModels.Directory(DemoModels.Default);
        using var device = new CpuDevice();
        using var checkpoint = ModelCheckpoint.Open(directory, WeightPrecision.BFloat16);
        using var layer = checkpoint.LoadLayer(1, device);
        using var reader = CheckpointReader.Open(directory);

        var query = Assert.IsType<FloatLinear>(layer.QueryProjection);
        Assert.Equal(TensorType.BFloat16, query.Weight.Type);
        Assert.Equal(TensorType.BFloat16, layer.FloatWeightType);
        Assert.Equal(TensorType.Float32, layer.InputNorm.Type);
        Assert.Equal(TensorDType.BF16, reader.GetEntry("model.layers.1.self_attn.q_proj.weight").DType);
        ushort[] stored = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(reader.GetBytes("model.layers.1.self_attn.q_proj.weight")).ToArray();
        Assert.Equal(stored, query.Weight.ToArray<BFloat16>().Select(v => v.Bits).ToArray());
    }

    [Fact]
    public void Synthetic_bf16_weights_are_the_float32_weights_rounded_on_the_device()
    {
        using var device = new CpuDevice();
        using var wide = ModelSource.Open("synthetic:tiny", WeightPrecision.Float32);
        using var narrow = ModelSource.Open("synthetic:tiny", WeightPrecision.BFloat16);
        using var a = wide.LoadLayer(0, device);
        using var b = narrow.LoadLayer(0, device);
        foreach (var slot in LinearSlot.All)
        {
            float[] values = ((FloatLinear)slot.Get(a)).Weight.ToArray<float>();
            var rounded = ((FloatLinear)slot.Get(b)).Weight;
            Assert.Equal(TensorType.BFloat16, rounded.Type);
            Assert.Equal(values.Select(BFloat16.Round).ToArray(), rounded.ToArray<BFloat16>().Select(v => v.ToSingle()).ToArray());
        }
    }

    [Fact]
    public void A_bf16_model_is_within_bf16_tolerance_of_the_float32_one_and_half_its_size()
    {
        using var device = new CpuDevice();
        using var fp32 = CausalLanguageModel.Load("synthetic:tiny", device, precision: WeightPrecision.Float32);
        using var bf16 = CausalLanguageModel.Load("synthetic:tiny", device, precision: WeightPrecision.BFloat16);
        int[] prompt = [0, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];
        float[] expected = fp32.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        float[] actual = bf16.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);

        // bf16 keeps 8 bits of mantissa (relative error up to 2⁻⁹ per weight and per linear input), which mostly
        // averages out over each dot product; through 4 layers with 20–100× outlier channels a few logits move more.
        double scale = Math.Sqrt(expected.Average(v => (double)v * v));
        double mean = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Average();
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(mean < 0.02 * scale && worst < 0.15 * scale, $"logit error mean {mean:E3}, worst {worst:E3}, against an RMS of {scale:E3}");
        Assert.True(worst > 0, "bf16 weights should change the logits a little");
        int vocab = fp32.Config.VocabSize, agree = 0;
        for (int t = 0; t < prompt.Length; t++)
        {
            agree += ArgMax(expected.AsSpan(t * vocab, vocab)) == ArgMax(actual.AsSpan(t * vocab, vocab)) ? 1 : 0;
        }

        Assert.True(agree >= prompt.Length - 1, $"top-1 agreed at {agree} of {prompt.Length} positions");
        long fpBytes = fp32.Layers.Sum(l => l.Weights.ByteLength), bfBytes = bf16.Layers.Sum(l => l.Weights.ByteLength);
        Assert.InRange((double)bfBytes / fpBytes, 0.49, 0.52);
    }

    [Fact]
    public void A_bf16_model_keeps_its_residual_stream_and_kv_cache_in_bf16()
    {
        using var device = new CpuDevice();
        using var fp32 = CausalLanguageModel.Load("synthetic:tiny", device, precision: WeightPrecision.Float32);
        using var bf16 = CausalLanguageModel.Load("synthetic:tiny", device, precision: WeightPrecision.BFloat16);
        int[] prompt = [0, 72, 101, 108, 108, 111];
        using var embedded = bf16.Head.Embed(prompt);
        Assert.Equal(TensorType.BFloat16, embedded.Type);
        Assert.All(bf16.Layers, layer => Assert.Equal(TensorType.BFloat16, layer.ActivationType));
        Assert.All(fp32.Layers, layer => Assert.Equal(TensorType.Float32, layer.ActivationType));

        fp32.Forward(prompt, ForwardBatch.Single(1, prompt.Length));
        bf16.Forward(prompt, ForwardBatch.Single(1, prompt.Length));
        Assert.Equal(fp32.Layers[0].KvCacheBytes / 2, bf16.Layers[0].KvCacheBytes);
    }

    [Fact]
    public void A_layer_refuses_a_residual_stream_of_another_type_naming_both()
    {
        using var device = new CpuDevice();
        using var bf16 = CausalLanguageModel.Load("synthetic:tiny", device, precision: WeightPrecision.BFloat16);
        using var hidden = device.Allocate(TensorType.Float32, 2, bf16.Config.HiddenSize);
        var error = Assert.Throws<ArgumentException>(() => bf16.Layers[0].Forward(hidden, ForwardBatch.Single(1, 2)));
        Assert.Contains("Float32[2,", error.Message);
        Assert.Contains("BFloat16", error.Message);
    }

    [Fact]
    public void Statistics_of_a_bf16_input_are_those_of_the_input_rounded_to_bf16()
    {
        using var device = new CpuDevice();
        var random = new Random(5);
        float[] values = Enumerable.Range(0, 37 * 24).Select(_ => (float)(random.NextDouble() * 2 - 1) * 3f).ToArray();
        using var x = device.UploadNew<float>(values, 37, 24);
        using var rounded = device.UploadNew<float>(values.Select(BFloat16.Round).ToArray(), 37, 24);
        using var asSeen = new LinearInputStatistics(device, 24, TensorType.BFloat16);
        using var reference = new LinearInputStatistics(device, 24);
        asSeen.Accumulate(x);
        reference.Accumulate(rounded);

        Assert.Equal(reference.AbsMax, asSeen.AbsMax);
        using var h1 = asSeen.Hessian();
        using var h2 = reference.Hessian();
        Assert.Equal(h2.ToArray<double>(), h1.ToArray<double>());
    }

    [Fact]
    public void A_bf16_model_quantizes_to_w8a8_and_kept_linears_stay_bf16()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device, precision: WeightPrecision.BFloat16);
        using var reference = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device, precision: WeightPrecision.BFloat16);
        var recipe = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Ignore = ["lm_head", "re:.*v_proj"] } };
        var calibration = SelfCalibration.Generate(model, samples: 6, tokens: 32, seed: 3);
        var report = new ModelQuantizer(model, recipe, QuantizationMode.LayerParallel).Run(calibration);

        Assert.All(model.Layers, layer =>
        {
            Assert.IsType<Int8Linear>(layer.Weights.QueryProjection);
            Assert.Equal(TensorType.BFloat16, Assert.IsType<FloatLinear>(layer.Weights.ValueProjection).Weight.Type);
        });

        // GPTQ over bf16 weights serves as well as over float32 ones do: the served error stays at W8A8's level.
        Assert.All(report.Layers.SelectMany(l => l.Linears), linear => Assert.True(linear.W8A8Error < 0.05, $"{linear.Module}: served error {linear.W8A8Error:E3}"));
        int[] prompt = TestModels.GoldenPrompt;
        float[] fp = reference.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        float[] w8a8 = model.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        double scale = Math.Sqrt(fp.Average(v => (double)v * v));
        double mean = fp.Zip(w8a8, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mean < 0.1 * scale, $"mean logit change {mean:E3} against an RMS of {scale:E3}");
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            best = row[i] > row[best] ? i : best;
        }

        return best;
    }
}
