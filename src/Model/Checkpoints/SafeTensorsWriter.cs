using System.Buffers.Binary;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Builds one safetensors file: tensors are laid out in insertion order behind a space-padded header,
/// the same layout the Rust reference writer produces, so the result loads in Python's safetensors.
/// </summary>
public sealed class SafeTensorsWriter
{
    private readonly TensorCollection _tensors = new();

    /// <summary>Written as the header's "__metadata__" entry (omitted when empty).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<byte> data) =>
        _tensors.Add(name, dtype, shape, data);

    /// <summary>Stores floats as F32, F16 or BF16 (both rounded to nearest, ties to even, as PyTorch does).</summary>
    public void AddFloat32(string name, long[] shape, ReadOnlySpan<float> values, TensorDType storeAs = TensorDType.F32) =>
        _tensors.AddFloat32(name, shape, values, storeAs);

    public void AddInt8(string name, long[] shape, ReadOnlySpan<sbyte> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I8);

    public void AddInt32(string name, long[] shape, ReadOnlySpan<int> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I32);

    public void AddInt64(string name, long[] shape, ReadOnlySpan<long> values) =>
        _tensors.AddInts(name, shape, values, TensorDType.I64);

    public void WriteTo(string path) => Write(path, _tensors.Tensors, Metadata);

    /// <summary>
    /// Writes to a temporary file beside <paramref name="path"/> and renames it into place, so a reader never
    /// maps a half-written file and a failed write leaves any previous file intact.
    /// </summary>
    internal static void Write(string path, IReadOnlyList<PendingTensor> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var entries = new List<TensorEntry>(tensors.Count);
        long offset = 0;
        foreach (PendingTensor tensor in tensors)
        {
            entries.Add(new TensorEntry(tensor.Name, tensor.DType, tensor.Shape, offset, offset + tensor.Data.Length));
            offset += tensor.Data.Length;
        }

        byte[] header = SafeTensorsHeader.Serialize(entries, metadata);
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (PendingTensor tensor in tensors)
                {
                    stream.Write(tensor.Data);
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
