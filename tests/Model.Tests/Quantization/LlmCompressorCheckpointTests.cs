using System.Text.Json.Nodes;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>
/// A checkpoint laid out as llm-compressor saves a bf16 model in W8A8 (every float tensor bf16, <c>weight_scale</c>
/// bf16 <c>[out, 1]</c>, its quantization_config block verbatim) is served like the project's own.
/// </summary>
public sealed class LlmCompressorCheckpointTests
{
    private const string QuantizationConfig = """
        {
          "config_groups": {
            "group_0": {
              "input_activations": { "actorder": null, "block_structure": null, "dynamic": true, "group_size": null, "num_bits": 8,
                                     "observer": null, "observer_kwargs": {}, "strategy": "token", "symmetric": true, "type": "int" },
              "output_activations": null,
              "targets": ["Linear"],
              "weights": { "actorder": null, "block_structure": null, "dynamic": false, "group_size": null, "num_bits": 8,
                           "observer": "minmax", "observer_kwargs": {}, "strategy": "channel", "symmetric": true, "type": "int" }
            }
          },
          "format": "int-quantized",
          "global_compression_ratio": 1.4583,
          "ignore": ["lm_head"],
          "kv_cache_scheme": null,
          "quant_method": "compressed-tensors",
          "quantization_status": "compressed"
        }
        """;

    [Fact]
    public void ABf16LlmCompressorCheckpointLoadsAndServes()
    {
        string source = TestModels.Directory(DemoModels.TinySharded);
        using var device = new CpuDevice();
        using var ours = CausalLanguageModel.Load(source, device);
        new ModelQuantizer(ours, QuantizationRecipe.Default).Run(SelfCalibration.Generate(ours, 8, 32, 42));

        string directory = Path.Combine(Path.GetTempPath(), "oq-llmc-" + Guid.NewGuid().ToString("N"));
        try
        {
            WriteAsLlmCompressor(ours, directory);
            using var loaded = CausalLanguageModel.Load(directory, device);
            Assert.Equal("compressed-tensors", loaded.Quantization?.QuantMethod);
            for (int l = 0; l < ours.Layers.Count; l++)
            {
                foreach (var slot in LinearSlot.All)
                {
                    var expected = (Int8Linear)slot.Get(ours.Layers[l].Weights);
                    var actual = Assert.IsType<Int8Linear>(slot.Get(loaded.Layers[l].Weights));
                    Assert.Equal(expected.Weight.ToArray<sbyte>(), actual.Weight.ToArray<sbyte>());
                    Assert.Equal(expected.WeightScales.ToArray<float>().Select(Bf16), actual.WeightScales.ToArray<float>());
                }
            }

            int[] prompt = TestModels.GoldenPrompt;
            float[] a = ours.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
            float[] b = loaded.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
            // bf16 keeps 8 bits of mantissa, so logits move a little; the predictions must not.
            int vocab = loaded.Config.VocabSize, same = 0;
            for (int t = 0; t < prompt.Length; t++)
            {
                same += System.Numerics.Tensors.TensorPrimitives.IndexOfMax(a.AsSpan(t * vocab, vocab))
                    == System.Numerics.Tensors.TensorPrimitives.IndexOfMax(b.AsSpan(t * vocab, vocab)) ? 1 : 0;
            }

            double meanShift = a.Zip(b, (x, y) => Math.Abs(x - y)).Average();
            Assert.True(same >= 0.9 * prompt.Length, $"top-1 equal at {same}/{prompt.Length} positions");
            Assert.True(meanShift < 0.1, $"bf16 storage moved logits by {meanShift:F3} on average");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteAsLlmCompressor(CausalLanguageModel model, string directory)
    {
        var writer = new CheckpointWriter();
        void Float(string name, DeviceTensor t, bool vector = false) =>
            writer.AddFloat32(name, vector ? [t.Columns] : [t.Rows, t.Columns], t.ToArray<float>(), TensorDType.BF16);
        Float("model.embed_tokens.weight", model.Head.Embedding);
        Float("model.norm.weight", model.Head.FinalNorm, vector: true);
        Float("lm_head.weight", model.Head.LmHead);
        foreach (var layer in model.Layers)
        {
            string p = DecoderLayerWeights.Prefix(layer.Index);
            Float($"{p}.input_layernorm.weight", layer.Weights.InputNorm, vector: true);
            Float($"{p}.post_attention_layernorm.weight", layer.Weights.PostAttentionNorm, vector: true);
            foreach (var slot in LinearSlot.All)
            {
                var linear = (Int8Linear)slot.Get(layer.Weights);
                string m = slot.ModuleName(layer.Index);
                writer.AddInt8($"{m}.weight", [linear.Weight.Rows, linear.Weight.Columns], linear.Weight.ToArray<sbyte>());
                writer.AddFloat32($"{m}.weight_scale", [linear.WeightScales.Columns, 1], linear.WeightScales.ToArray<float>(), TensorDType.BF16);
            }
        }

        writer.WriteTo(directory, maxShardBytes: 300_000);
        var config = JsonNode.Parse((model.Config with { TorchDtype = "bfloat16" }).ToJson())!.AsObject();
        config["quantization_config"] = JsonNode.Parse(QuantizationConfig);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
    }

    private static float Bf16(float value) => FloatConversion.FromBFloat16Bits(FloatConversion.ToBFloat16Bits(value));
}
