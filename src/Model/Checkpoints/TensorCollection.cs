using System.Runtime.InteropServices;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// The tensors a writer has been given, in insertion order, checked as they arrive so that a bad
/// shape or duplicate name fails at the call that caused it rather than when the file is written.
/// Shared by <see cref="SafeTensorsWriter"/> and <see cref="CheckpointWriter"/>.
/// </summary>
internal sealed class TensorCollection
{
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public IReadOnlyList<PendingTensor> Tensors => _tensors;

    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        long expected = CheckedByteLength(name, dtype, shape);
        if (data.Length != expected)
        {
            throw new ArgumentException(
                $"tensor {name}: {data.Length} bytes for shape {SafeTensorsHeader.FormatShape(shape)} of {dtype.ToSafeTensorsName()}, expected {expected}",
                nameof(data));
        }

        Append(name, dtype, shape, data.ToArray());
    }

    public void AddFloat32(string name, long[] shape, ReadOnlySpan<float> values, TensorDType storeAs)
    {
        if (!storeAs.IsFloatingPoint())
        {
            throw new ArgumentException(
                $"tensor {name}: floats cannot be stored as {storeAs.ToSafeTensorsName()}; expected F32, F16 or BF16", nameof(storeAs));
        }

        CheckElementCount(name, shape, values.Length);
        Append(name, storeAs, shape, FloatConversion.FromFloat32(storeAs, values));
    }

    public void AddInts<T>(string name, long[] shape, ReadOnlySpan<T> values, TensorDType dtype)
        where T : unmanaged
    {
        CheckElementCount(name, shape, values.Length);
        Append(name, dtype, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    private void CheckElementCount(string name, long[] shape, int count)
    {
        long expected = CheckedElementCount(name, shape);
        if (count != expected)
        {
            throw new ArgumentException(
                $"tensor {name}: {count} values for shape {SafeTensorsHeader.FormatShape(shape)}, expected {expected}", nameof(shape));
        }
    }

    private static long CheckedByteLength(string name, TensorDType dtype, long[] shape) =>
        checked(CheckedElementCount(name, shape) * dtype.ElementSize());

    private static long CheckedElementCount(string name, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException(
                    $"tensor {name}: shape {SafeTensorsHeader.FormatShape(shape)} has a negative dimension", nameof(shape));
            }

            count = checked(count * dim);
        }

        return count;
    }

    private void Append(string name, TensorDType dtype, long[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensorsHeader.MetadataKey)
        {
            throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved for file metadata", nameof(name));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"tensor {name}: already added", nameof(name));
        }

        _tensors.Add(new PendingTensor(name, dtype, (long[])shape.Clone(), data));
    }
}
