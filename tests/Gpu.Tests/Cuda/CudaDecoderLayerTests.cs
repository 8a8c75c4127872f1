using OrleansQuant.Model;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>
/// A whole decoder layer of the tiny demo model, unchanged layer code, on the CPU and on the GPU: a prefill of two
/// sequences, then a decode step of both, in full precision and in W8A8 (RTN weights, activations per token).
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaDecoderLayerTests(CudaFixture devices) : IClassFixture<CudaFixture>
{
    private static readonly Lazy<string> s_checkpoint = new(() =>
        DemoModelWriter.EnsureCached(DemoModels.Tiny, Path.Combine(Path.GetTempPath(), "orleansquant-gpu-tests-" + Environment.ProcessId)));

    [GpuTheory]
    // Float32 weights and the fp32 attention kernels: float rounding.
    [InlineData("fp32", 1e-4)]
    // BFloat16 weights on both devices (the GPU default) and tensor-core prefill attention (bf16 operands): bf16 tolerance.
    [InlineData("bf16", 3e-2)]
    // W8A8: an activation a rounding step away from a code boundary may land on the other code on one device, so
    // the layer agrees to the size of one int8 step, not to float rounding.
    [InlineData("w8a8", 2e-2)]
    // The same with the own int8 tensor-core GEMM from 9 tokens on, so the 32-token prefill runs q/k/v grouped, gate/up
    // with SwiGLU in the epilogue, and o/down adding into the residual in their epilogue.
    [InlineData("w8a8-mma", 2e-2)]
    // What a bf16 model serves on a GPU: bf16 weights, and the residual stream, every activation and the KV cache in
    // bf16 (vLLM's --dtype bfloat16), against the CPU device's bf16 activations (float kernels between roundings).
    [InlineData("bf16-activations", 3e-2)]
    // W8A8 with bf16 activations: int8 GEMMs writing bf16, the residual added in bf16 in their epilogue.
    [InlineData("w8a8-mma-bf16-activations", 3e-2)]
    public void ALayerForwardMatchesTheCpu(string weightsAs, double tolerance)
    {
        bool w8a8 = weightsAs.StartsWith("w8a8", StringComparison.Ordinal);
        bool bf16Activations = weightsAs.EndsWith("bf16-activations", StringComparison.Ordinal);
        var precision = weightsAs.StartsWith("bf16", StringComparison.Ordinal) ? WeightPrecision.BFloat16 : WeightPrecision.Float32;
        var activations = bf16Activations ? TensorType.BFloat16 : TensorType.Float32;
        var config = DemoModels.Tiny.Config;
        var random = Compare.Fresh(out int seed);
        int hidden = config.HiddenSize;
        var prefill = new ForwardBatch([new SequenceChunk(1, 0, 23), new SequenceChunk(2, 0, 9)]);
        var decode = new ForwardBatch([new SequenceChunk(2, 9, 1), new SequenceChunk(1, 23, 1)]);
        var prefillInput = Compare.Floats(random, prefill.TokenCount * hidden, 2f);
        var decodeInput = Compare.Floats(random, decode.TokenCount * hidden, 2f);

        (float[] Prefill, float[] Decode) Run(IComputeDevice device)
        {
            using var checkpoint = CheckpointReader.Open(s_checkpoint.Value);
            var weights = w8a8 ? QuantizedWeights(checkpoint, device, config) : DecoderLayerWeights.Load(new WeightLoader(checkpoint, device, precision), config, 1);
            using var layer = new DecoderLayer(1, config, weights, device, activations);
            using var first = device.UploadFloats(prefillInput, prefill.TokenCount, hidden, activations);
            layer.Forward(first, prefill);
            using var second = device.UploadFloats(decodeInput, decode.TokenCount, hidden, activations);
            layer.Forward(second, decode);
            return (first.ToFloats(), second.ToFloats());
        }

        var expected = Run(devices.Cpu);
        devices.Gpu.TensorCorePrefill = weightsAs != "fp32";
        int mmaFrom = devices.Gpu.Int8MmaMinTokens;
        devices.Gpu.Int8MmaMinTokens = 1;
        devices.Gpu.Int8Mma = weightsAs.StartsWith("w8a8-mma", StringComparison.Ordinal);
        try
        {
            var actual = Run(devices.Gpu);
            Compare.Close(expected.Prefill, actual.Prefill, tolerance, $"layer prefill, {weightsAs} (seed {seed}) via {devices.Gpu.LastAttentionPath}");
            Compare.Close(expected.Decode, actual.Decode, tolerance, $"layer decode, {weightsAs} (seed {seed})");
        }
        finally
        {
            devices.Gpu.TensorCorePrefill = true;
            devices.Gpu.Int8MmaMinTokens = mmaFrom;
            devices.Gpu.Int8Mma = true;
        }
    }

    private static DecoderLayerWeights QuantizedWeights(CheckpointReader checkpoint, IComputeDevice device, ModelConfig config)
    {
        string prefix = DecoderLayerWeights.Prefix(1);
        return DecoderLayerWeights.Build(device,
            checkpoint.ReadFloat32($"{prefix}.input_layernorm.weight"),
            checkpoint.ReadFloat32($"{prefix}.post_attention_layernorm.weight"),
            slot =>
            {
                var entry = checkpoint.GetEntry(slot.ModuleName(1) + ".weight");
                int rows = (int)entry.Shape[0], columns = (int)entry.Shape[1];
                using var weights = device.UploadNew<double>(checkpoint.ReadFloat32(slot.ModuleName(1) + ".weight").Select(v => (double)v).ToArray(), rows, columns);
                var quantized = RoundToNearest.Quantize(device, weights);
                return new Int8Linear(quantized.Values, quantized.Scales, null);
            });
    }
}
