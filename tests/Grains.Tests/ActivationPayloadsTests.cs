using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Tests;

/// <summary>
/// Activations between grains travel in the sender's type (bf16 as bf16 bits, half the bytes) and land in the
/// receiver's: a bf16 → float32 hop is exact, a float32 → bf16 hop rounds as a bf16 layer's own output would.
/// </summary>
public sealed class ActivationPayloadsTests
{
    private readonly CpuDevice _device = new(maxThreads: 1);
    private readonly float[] _values = [0.1f, -1.0039063f, 2.0078125f, 3.3333333f, 1e-3f, -70000f];

    [Fact]
    public void A_bf16_tensor_travels_as_bf16_bits_and_widens_exactly()
    {
        using var tensor = _device.UploadFloats(_values, 2, 3, TensorType.BFloat16);
        var payload = ActivationPayloads.Of(tensor);
        Assert.Null(payload.Values);
        Assert.Equal(6, payload.BFloat16Bits!.Length);

        using var wide = ActivationPayloads.Upload(_device, payload, TensorType.Float32);
        Assert.Equal(_values.Select(BFloat16.Round).ToArray(), wide.ToArray<float>());
        using var same = ActivationPayloads.Upload(_device, payload, TensorType.BFloat16);
        Assert.Equal(tensor.ToArray<BFloat16>(), same.ToArray<BFloat16>());
    }

    [Fact]
    public void A_float_payload_lands_in_a_bf16_layer_rounded_once()
    {
        using var tensor = _device.UploadNew<float>(_values, 2, 3);
        var payload = ActivationPayloads.Of(tensor);
        Assert.Equal(_values, payload.Values);

        using var narrow = ActivationPayloads.Upload(_device, payload, TensorType.BFloat16);
        Assert.Equal(_values.Select(BFloat16.Round).ToArray(), narrow.ToFloats());
    }

    [Fact]
    public void A_payload_whose_values_do_not_fill_its_shape_is_refused()
    {
        var payload = new Contracts.ActivationPayload(2, 3, [1f, 2f], null);
        var error = Assert.Throws<ArgumentException>(() => ActivationPayloads.Upload(_device, payload, TensorType.Float32));
        Assert.Contains("[2, 3] carries 2 values", error.Message);
    }
}
