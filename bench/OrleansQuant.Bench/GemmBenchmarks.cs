using BenchmarkDotNet.Attributes;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Bench;

/// <summary>
/// One linear layer of the demo model as fp32 (<see cref="CpuDevice.MatMul"/>) and as W8A8 (per-token quantization of
/// the activations, then the int8 GEMM with dequantization: what a W8A8 linear does on every call), decode to prefill.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class GemmBenchmarks
{
    private CpuDevice _device = null!;
    private DeviceTensor _x = null!, _weight = null!, _output = null!;
    private DeviceTensor _quantized = null!, _tokenScales = null!, _weightInt8 = null!, _weightScales = null!;

    /// <summary>Linear shapes of the demo model (hidden 512, intermediate 1536) as out × in.</summary>
    [Params("q 512x512", "kv 256x512", "gate/up 1536x512", "down 512x1536")]
    public string Shape { get; set; } = "";

    /// <summary>1 = one decode step, 16 = a small continuous batch, 512 = a prefill chunk.</summary>
    [Params(1, 16, 512)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var size = Shape.Split(' ')[1].Split('x');
        int outputs = int.Parse(size[0]), inner = int.Parse(size[1]);
        var random = new Random(42);
        _device = new CpuDevice();
        _x = Put(Enumerable.Range(0, Tokens * inner).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), Tokens, inner);
        _weight = Put(Enumerable.Range(0, outputs * inner).Select(_ => (float)(random.NextDouble() * 0.1 - 0.05)).ToArray(), outputs, inner);
        _output = _device.Allocate(TensorType.Float32, Tokens, outputs);
        _quantized = _device.Allocate(TensorType.Int8, Tokens, inner);
        _tokenScales = _device.Allocate(TensorType.Float32, Tokens, 1);
        // The fp32 weight quantized per output channel the same way (rows as "tokens"), so both paths see one layer.
        _weightInt8 = _device.Allocate(TensorType.Int8, outputs, inner);
        var channelScales = _device.Allocate(TensorType.Float32, outputs, 1);
        _device.QuantizePerToken(_weight, _weightInt8, channelScales);
        var scales = new float[outputs];
        _device.Download<float>(channelScales, scales);
        _weightScales = Put(scales, 1, outputs);
    }

    [Benchmark(Baseline = true)]
    public void Fp32() => _device.MatMul(_x, _weight, null, _output);

    [Benchmark]
    public void W8A8()
    {
        _device.QuantizePerToken(_x, _quantized, _tokenScales);
        _device.MatMulInt8(_quantized, _tokenScales, _weightInt8, _weightScales, null, _output);
    }

    [GlobalCleanup]
    public void Cleanup() => _device.Dispose();

    private DeviceTensor Put(float[] values, int rows, int columns)
    {
        var tensor = _device.Allocate(TensorType.Float32, rows, columns);
        _device.Upload<float>(values, tensor);
        return tensor;
    }
}
