using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Moves named tensors onto a device in the shapes the config implies, from a checkpoint or a synthetic model
/// (<see cref="ITensorSource"/>): the head and the decoder layers load through this one type whatever the source.
/// </summary>
public sealed class WeightLoader
{
    private readonly ITensorSource _source;

    public WeightLoader(ITensorSource source, IComputeDevice device)
    {
        _source = source;
        Device = device;
    }

    public WeightLoader(CheckpointReader checkpoint, IComputeDevice device)
        : this(new CheckpointTensorSource(checkpoint), device)
    {
    }

    public IComputeDevice Device { get; }

    public bool Contains(string name) => _source.Contains(name);

    /// <summary>A matrix <c>[rows, columns]</c>, or a vector when <paramref name="rows"/> is 1 and the tensor is 1-D.</summary>
    public DeviceTensor Load(string name, int rows, int columns) => _source.LoadFloat32(name, rows, columns, Device);

    public DeviceTensor LoadVector(string name, int length) => Load(name, 1, length);

    public FloatLinear LoadLinear(string prefix, int outputs, int inputs, bool bias) =>
        new(Load(prefix + ".weight", outputs, inputs), bias ? LoadVector(prefix + ".bias", outputs) : null);

    /// <summary>
    /// A linear as a compressed-tensors W8A8 checkpoint stores it (int8 <c>weight</c> plus <c>weight_scale</c>
    /// <c>[out, 1]</c>) when the scale is there, otherwise a full-precision one.
    /// </summary>
    public Linear LoadLinearOrInt8(string prefix, int outputs, int inputs, bool bias)
    {
        if (!Contains(prefix + ".weight_scale"))
        {
            return LoadLinear(prefix, outputs, inputs, bias);
        }

        var (weight, scales) = _source.LoadInt8(prefix, outputs, inputs, Device);
        return new Int8Linear(weight, scales, bias ? LoadVector(prefix + ".bias", outputs) : null);
    }
}
