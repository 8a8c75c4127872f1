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

        var values = _checkpoint.ReadFloat32(name);
        var tensor = Device.Allocate(TensorType.Float32, rows, columns);
        Device.Upload<float>(values, tensor);
        return tensor;
    }

    public DeviceTensor LoadVector(string name, int length) => Load(name, 1, length);

    public FloatLinear LoadLinear(string prefix, int outputs, int inputs, bool bias) =>
        new(Load(prefix + ".weight", outputs, inputs), bias ? LoadVector(prefix + ".bias", outputs) : null);
}
