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

    /// <param name="precision">what full-precision matrices (linear weights, embedding, lm_head) are stored as on <paramref name="device"/>.</param>
    public WeightLoader(ITensorSource source, IComputeDevice device, WeightPrecision precision = WeightPrecision.Auto)
    {
        _source = source;
        Device = device;
        WeightType = precision.StorageOn(device);
    }

    public WeightLoader(CheckpointReader checkpoint, IComputeDevice device, WeightPrecision precision = WeightPrecision.Auto)
        : this(new CheckpointTensorSource(checkpoint), device, precision)
    {
    }

    public IComputeDevice Device { get; }

    /// <summary>Float32 or BFloat16: the type of full-precision matrices loaded here.</summary>
    public TensorType WeightType { get; }

    public bool Contains(string name) => _source.Contains(name);

    /// <summary>A full-precision matrix <c>[rows, columns]</c> (a linear's weight, the embedding) as <see cref="WeightType"/>.</summary>
    public DeviceTensor LoadMatrix(string name, int rows, int columns) => _source.LoadFloat(name, rows, columns, WeightType, Device);

    /// <summary>A Float32 vector <c>[1, length]</c> (norm gains and biases stay float32 whatever the weights are).</summary>
    public DeviceTensor LoadVector(string name, int length) => _source.LoadFloat(name, 1, length, TensorType.Float32, Device);

    public FloatLinear LoadLinear(string prefix, int outputs, int inputs, bool bias) =>
        new(LoadMatrix(prefix + ".weight", outputs, inputs), bias ? LoadVector(prefix + ".bias", outputs) : null);

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
