using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Inference;

/// <summary>Moves named checkpoint tensors onto a device, checking each shape against what the config implies.</summary>
public sealed class WeightLoader
{
    private readonly CheckpointReader _checkpoint;

    public WeightLoader(CheckpointReader checkpoint, IComputeDevice device)
    {
        _checkpoint = checkpoint;
        Device = device;
    }

    public IComputeDevice Device { get; }

    public bool Contains(string name) => _checkpoint.Contains(name);

    /// <summary>A matrix <c>[rows, columns]</c>, or a vector when <paramref name="rows"/> is 1 and the tensor is 1-D.</summary>
    public DeviceTensor Load(string name, int rows, int columns)
    {
        var entry = _checkpoint.GetEntry(name);
        long[] expected = rows == 1 && entry.Shape.Length == 1 ? [columns] : [rows, columns];
        if (!entry.Shape.SequenceEqual(expected))
        {
            throw new ModelFormatException(_checkpoint.Directory,
                $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}]; the config implies [{string.Join(", ", expected)}]");
        }

        return Device.UploadNew<float>(_checkpoint.ReadFloat32(name), rows, columns);
    }

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

        string name = prefix + ".weight";
        var entry = _checkpoint.GetEntry(name);
        if (entry.DType != TensorDType.I8 || !entry.Shape.SequenceEqual([outputs, inputs]))
        {
            throw new ModelFormatException(_checkpoint.Directory,
                $"tensor '{name}' is {entry.DType}[{string.Join(", ", entry.Shape)}]; a linear with a weight_scale needs I8[{outputs}, {inputs}]");
        }

        var scaleEntry = _checkpoint.GetEntry(prefix + ".weight_scale");
        if (scaleEntry.ElementCount != outputs || scaleEntry.Shape.Length is < 1 or > 2)
        {
            throw new ModelFormatException(_checkpoint.Directory,
                $"tensor '{prefix}.weight_scale' has shape [{string.Join(", ", scaleEntry.Shape)}]; per-channel int8 weights need [{outputs}, 1]");
        }

        return new Int8Linear(
            Device.UploadNew<sbyte>(_checkpoint.ReadInt8(name), outputs, inputs),
            Device.UploadVector<float>(_checkpoint.ReadFloat32(prefix + ".weight_scale")),
            bias ? LoadVector(prefix + ".bias", outputs) : null);
    }
}
