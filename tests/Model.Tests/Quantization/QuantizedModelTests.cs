using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Evaluation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>The whole flow on the tiny model: calibrate, quantize, serve W8A8, save as compressed-tensors, load back.</summary>
public sealed class QuantizedModelTests
{
    [Theory]
    [InlineData(QuantizationMode.LayerParallel)]
    [InlineData(QuantizationMode.Sequential)]
    public void QuantizedModelSavesAndLoadsBackToTheSameLogits(QuantizationMode mode)
    {
        string source = TestModels.Directory(DemoModels.TinyQwen2);
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(source, device);
        var calibration = SelfCalibration.Generate(model, samples: 12, tokens: 40, seed: 42);
        var report = new ModelQuantizer(model, QuantizationRecipe.Default, mode).Run(calibration);

        Assert.Equal(model.Config.NumHiddenLayers, report.Layers.Count);
        Assert.All(report.Layers, layer => Assert.Equal(7, layer.Linears.Count));
        Assert.All(model.Layers, layer => Assert.All(LinearSlot.All, slot => Assert.IsType<Int8Linear>(slot.Get(layer.Weights))));
        Assert.All(model.Layers, layer => Assert.Equal(1, layer.Version));
        float[] before = model.Forward(TestModels.GoldenPrompt, ForwardBatch.Single(1, TestModels.GoldenPrompt.Length), allPositions: true);
        model.EndSequence(1);

        string saved = Path.Combine(Path.GetTempPath(), "oq-quantized-" + Guid.NewGuid().ToString("N"));
        try
        {
            QuantizedCheckpointWriter.Write(model, QuantizationRecipe.Default, source, saved);
            Assert.True(File.Exists(Path.Combine(saved, "recipe.yaml")));
            // One shard per layer plus the head's, the layout layer grains write in a cluster.
            Assert.True(File.Exists(Path.Combine(saved, "model.safetensors.index.json")));
            Assert.Equal(model.Config.NumHiddenLayers + 1, Directory.GetFiles(saved, "model-*.safetensors").Length);
            Assert.True(File.Exists(Path.Combine(saved, "tokenizer.json")));
            using var loaded = CausalLanguageModel.Load(saved, device);
            Assert.Equal("int-quantized", loaded.Quantization?.Format);
            Assert.All(loaded.Layers, layer => Assert.All(LinearSlot.All, slot => Assert.IsType<Int8Linear>(slot.Get(layer.Weights))));
            float[] after = loaded.Forward(TestModels.GoldenPrompt, ForwardBatch.Single(1, TestModels.GoldenPrompt.Length), allPositions: true);
            Assert.Equal(before, after);
        }
        finally
        {
            Directory.Delete(saved, recursive: true);
        }
    }

    [Fact]
    public void IgnoredLinearsStayFullPrecisionButAreStillSmoothed()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        using var reference = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        var recipe = QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Ignore = ["lm_head", "re:.*down_proj", "re:.*v_proj"] } };
        var calibration = SelfCalibration.Generate(model, samples: 6, tokens: 32, seed: 3);
        new ModelQuantizer(model, recipe).Run(calibration);

        Assert.All(model.Layers, layer =>
        {
            Assert.IsType<FloatLinear>(layer.Weights.DownProjection);
            Assert.IsType<FloatLinear>(layer.Weights.ValueProjection);
            Assert.IsType<Int8Linear>(layer.Weights.KeyProjection);
        });
        var result = ModelEvaluator.Evaluate(calibration, ("fp", reference), ("w8a8", model));
        Assert.True(result[1].Top1Agreement >= 0.9, $"top-1 agreement {result[1].Top1Agreement:P1}");
    }

    [Fact]
    public void AMappingThatLeavesAReaderOfTheNormUnbalancedIsRefused()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        var recipe = QuantizationRecipe.Default with
        {
            SmoothQuant = new SmoothQuantModifier(0.8, [new SmoothingMapping(["re:.*q_proj", "re:.*k_proj"], "re:.*input_layernorm")]),
        };
        // Refused before any calibration is spent, naming the first layer it would break.
        var error = Assert.Throws<ModelFormatException>(() => new ModelQuantizer(model, recipe));
        Assert.Contains("model.layers.0.self_attn.v_proj also read", error.Message);
        Assert.All(model.Layers, layer => Assert.Equal(0, layer.Version));
    }
}
