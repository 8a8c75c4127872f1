using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Where a model's named tensors come from — a checkpoint's files, or a generator that makes them on the device — so
/// <see cref="WeightLoader"/> and every loader above it (the head, a decoder layer) are written once for both.
/// </summary>
public interface ITensorSource
{
    /// <summary>Where the tensors come from (a directory, a synthetic model's name), for error messages.</summary>
    string Origin { get; }

    bool Contains(string name);

    /// <summary>
    /// A <paramref name="type"/> (Float32 or BFloat16) tensor <c>[rows, columns]</c> on <paramref name="device"/>; a 1-D
    /// tensor of <paramref name="columns"/> elements when <paramref name="rows"/> is 1. Throws
    /// <see cref="ModelFormatException"/> naming the tensor when the source holds it in another shape.
    /// </summary>
    DeviceTensor LoadFloat(string name, int rows, int columns, TensorType type, IComputeDevice device);

    /// <summary>
    /// A W8A8 linear as compressed-tensors stores it: int8 <c>{prefix}.weight</c> <c>[outputs, inputs]</c> and its
    /// per-channel <c>{prefix}.weight_scale</c> as a Float32 vector. Asked only when <see cref="Contains"/> says the scale is there.
    /// </summary>
    (DeviceTensor Weight, DeviceTensor Scales) LoadInt8(string prefix, int outputs, int inputs, IComputeDevice device);
}
