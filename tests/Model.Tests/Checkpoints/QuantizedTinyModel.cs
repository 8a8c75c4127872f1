using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Checkpoints;

/// <summary>
/// The tiny Qwen2 model quantized once in this process (down_proj left full precision, so shards mix int8 and float
/// linears), shared by the tests below; each test saves it into its own directory.
/// </summary>
public sealed class QuantizedTinyModel : IDisposable
{
    public QuantizedTinyModel()
    {
        Source = TestModels.Directory(DemoModels.TinyQwen2);
        Model = CausalLanguageModel.Load(Source, Device);
        new ModelQuantizer(Model, Recipe).Run(SelfCalibration.Generate(Model, samples: 8, tokens: 32, seed: 42));
        Logits = Model.Forward(TestModels.GoldenPrompt, ForwardBatch.Single(1, TestModels.GoldenPrompt.Length), allPositions: true);
        Model.EndSequence(1);
    }

    public static QuantizationRecipe Recipe { get; } =
        QuantizationRecipe.Default with { Gptq = GptqModifier.Default with { Ignore = ["lm_head", "re:.*down_proj"] } };

    public CpuDevice Device { get; } = new();

    public string Source { get; }

    public CausalLanguageModel Model { get; }

    /// <summary>Logits of every position of the golden prompt, before saving.</summary>
    public float[] Logits { get; }

    /// <summary>Saves the way the cluster will: each layer its own shard, then the head, index and side files.</summary>
    public void SaveLayerByLayer(string directory)
    {
        int layers = Model.Config.NumHiddenLayers;
        var shards = Model.Layers.Select(l => QuantizedCheckpointWriter.WriteLayerShard(directory, l.Index, layers, l.Weights)).ToList();
        QuantizedCheckpointWriter.WriteHeadAndIndex(Model.Config, Recipe, Source, directory, Model.Head, shards);
    }

    public void Dispose()
    {
        Model.Dispose();
        Device.Dispose();
    }
}
