using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Demo;

/// <summary>
/// Synthetic models (<c>synthetic:NAME</c>): opened where a checkpoint directory would be, generated on the loading
/// device, the same whoever makes a tensor and in whatever order, with the demo checkpoints' outlier channels.
/// </summary>
public sealed class SyntheticModelTests
{
    [Fact]
    public void A_synthetic_name_opens_with_its_config_and_no_quantization()
    {
        using var source = ModelSource.Open("synthetic:tiny");

        Assert.Equal("synthetic:tiny", source.Location);
        Assert.Equal(DemoModels.Tiny.Config, source.Config);
        Assert.Null(source.Quantization);
        Assert.Equal("synthetic:tiny", ModelDirectory.Resolve("SYNTHETIC:Tiny"));
    }

    [Fact]
    public void The_llama3_8b_preset_has_llama_3_8bs_shapes_and_a_valid_config()
    {
        var config = SyntheticModels.ByName("synthetic:llama3-8b").Config;

        Assert.Equal((32, 4096, 32, 8, 128, 14336, 128256, 500000.0),
            (config.NumHiddenLayers, config.HiddenSize, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim,
                config.IntermediateSize, config.VocabSize, config.RopeTheta));

        // The config survives its own JSON, so a saved W8A8 checkpoint of it loads like any other.
        Assert.Equal(config, ModelConfig.Parse(config.ToJson(), "config.json"));
    }

    [Fact]
    public void An_unknown_synthetic_name_is_refused_naming_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelSource.Open("synthetic:llama9"));
        Assert.Contains("synthetic:llama3-8b", error.Message);
        Assert.Contains("synthetic:tiny", error.Message);
        Assert.Throws<ArgumentException>(() => ModelDirectory.Check("synthetic:nope"));
    }

    [Fact]
    public void The_model_loads_and_generates_the_same_tokens_on_any_thread_count()
    {
        using var oneThread = new CpuDevice(maxThreads: 1);
        using var fourThreads = new CpuDevice(maxThreads: 4);
        using var a = CausalLanguageModel.Load("synthetic:tiny", oneThread);
        using var b = CausalLanguageModel.Load("synthetic:tiny", fourThreads);

        int[] prompt = [0, 72, 101, 108];
        float[] logitsA = a.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        float[] logitsB = b.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        a.EndSequence(1);
        b.EndSequence(1);

        Assert.All(logitsA, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(logitsA, logitsB);
        var request = new GenerationRequest(prompt, 8, SamplingOptions.Greedy, StopIds: []);
        Assert.Equal(new Generator(a).Generate([request])[0].GeneratedIds, new Generator(b).Generate([request])[0].GeneratedIds);
    }

    [Fact]
    public void A_layer_made_alone_equals_the_same_layer_of_the_whole_model()
    {
        using var device = new CpuDevice();
        using var whole = CausalLanguageModel.Load("synthetic:tiny", device);
        using var source = ModelSource.Open("synthetic:tiny");
        using var alone = source.LoadLayer(2, device);

        var expected = whole.Layers[2].Weights;
        foreach (var slot in LinearSlot.All)
        {
            Assert.Equal(Values(slot.Get(expected)), Values(slot.Get(alone)));
        }

        Assert.Equal(expected.InputNorm.ToArray<float>(), alone.InputNorm.ToArray<float>());

        // Different tensors get different seeds: no two layers (or projections) share their values.
        Assert.NotEqual(Values(whole.Layers[1].Weights.QueryProjection), Values(expected.QueryProjection));
        Assert.NotEqual(Values(expected.GateProjection), Values(expected.UpProjection));
    }

    [Fact]
    public void Outlier_channels_carry_large_norm_gains_and_the_columns_reading_them_are_damped()
    {
        var spec = SyntheticModels.Tiny;
        using var device = new CpuDevice();
        using var source = ModelSource.Open("synthetic:tiny");
        using var layer = source.LoadLayer(0, device);
        float[] gains = layer.InputNorm.ToArray<float>();
        var query = (FloatLinear)layer.QueryProjection;
        float[] weights = query.Weight.ToArray<float>();
        int rows = query.Weight.Rows, columns = query.Weight.Columns;

        var outliers = spec.OutlierChannels;
        var ordinary = Enumerable.Range(0, columns).Except(outliers).ToArray();
        Assert.All(ordinary, c => Assert.InRange(gains[c], 0.8f, 1.2f));
        for (int i = 0; i < outliers.Length; i++)
        {
            Assert.InRange(gains[outliers[i]], 0.8f * spec.OutlierGains[i], 1.2f * spec.OutlierGains[i]);
        }

        double ColumnRms(int c) => Math.Sqrt(Enumerable.Range(0, rows).Average(r => (double)weights[r * columns + c] * weights[r * columns + c]));
        double ordinaryRms = Math.Sqrt(ordinary.Average(c => ColumnRms(c) * ColumnRms(c)));
        Assert.InRange(ordinaryRms, 0.8 / Math.Sqrt(columns), 1.2 / Math.Sqrt(columns));
        for (int i = 0; i < outliers.Length; i++)
        {
            // Damped by 1/√gain: far below the ordinary columns (a column of 64 draws varies by ~10 %).
            Assert.InRange(ColumnRms(outliers[i]) * Math.Sqrt(spec.OutlierGains[i]) / ordinaryRms, 0.6, 1.4);
        }
    }

    [Fact]
    public void Its_tokenizer_passes_ids_and_refuses_text_saying_what_to_give_instead()
    {
        var tokenizer = ModelTokenizer.Load("synthetic:tiny");

        Assert.Equal("<5>", tokenizer.DecodeToken(5));
        Assert.Equal("<5><7>", tokenizer.Decode([5, 7]));
        Assert.Equal(DemoModels.Tiny.Config.BosTokenId, tokenizer.BosId);
        var error = Assert.Throws<ArgumentException>(() => tokenizer.Encode("hello"));
        Assert.Contains("synthetic:tiny has no tokenizer", error.Message);
        Assert.Contains("--prompt-ids", error.Message);
    }

    private static float[] Values(Linear linear) => ((FloatLinear)linear).Weight.ToArray<float>();
}
