using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using OrleansQuant.Model.Files;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// A read-only, memory-mapped safetensors file. Tensor bytes are served straight from the mapping, so a layer
/// grain touches only the pages of its own tensors. Spans returned by this type are valid until <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private readonly Dictionary<string, TensorEntry> _tensors;
    private bool _disposed;

    private SafeTensorsFile(
        string path, MemoryMappedFile mapping, MemoryMappedViewAccessor view, long dataOffset, SafeTensorsHeader header)
    {
        Path = path;
        _mapping = mapping;
        _view = view;
        _tensors = header.Tensors;
        Tensors = header.Tensors.AsReadOnly();
        Metadata = header.Metadata.AsReadOnly();

        byte* basePointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        _data = basePointer + view.PointerOffset + dataOffset;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    /// <summary>The "__metadata__" entry; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="ModelFormatException"/> for anything unusable.</summary>
    public static SafeTensorsFile Open(string path)
    {
        // Elements are reinterpreted in place, which is only right on a little-endian host (x64, arm64).
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are little-endian; this host is not");
        }

        // Checked before opening: a FIFO would block the open until some writer came, a directory would not open at all.
        InputFile.CheckRegular(path, "a safetensors file");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFormatException(path, "file does not exist; expected a safetensors file", ex);
        }

        try
        {
            long fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new ModelFormatException(
                    path, $"file is {fileLength} bytes, shorter than the 8-byte header length prefix of a safetensors file");
            }

            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(fileLength - 8))
            {
                throw new ModelFormatException(
                    path, $"header length {headerLength} exceeds the file: only {fileLength - 8} bytes follow the length prefix");
            }

            if (headerLength > SafeTensorsHeader.MaxHeaderLength)
            {
                throw new ModelFormatException(
                    path, $"header length {headerLength} exceeds the {SafeTensorsHeader.MaxHeaderLength}-byte limit of safetensors");
            }

            var headerBytes = new byte[(int)headerLength];
            stream.ReadExactly(headerBytes);
            long dataOffset = 8 + (long)headerLength;
            var header = SafeTensorsHeader.Parse(path, headerBytes, fileLength - dataOffset);

            var mapping = MemoryMappedFile.CreateFromFile(
                stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new SafeTensorsFile(path, mapping, view, dataOffset, header);
            }
            catch
            {
                mapping.Dispose();
                throw;
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public TensorEntry GetEntry(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_tensors.TryGetValue(name, out TensorEntry? entry))
        {
            throw new ModelFormatException(Path, $"tensor {name}: not in this file");
        }

        return entry;
    }

    /// <summary>The raw little-endian bytes of a tensor under 2 GiB; larger ones are read in slices.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        TensorEntry entry = GetEntry(name);
        if (entry.ByteLength > int.MaxValue)
        {
            throw new ModelFormatException(
                Path,
                $"tensor {name}: {entry.ByteLength} bytes exceed the 2 GiB limit of one span; read it with GetBytes(name, byteOffset, byteCount)");
        }

        return new ReadOnlySpan<byte>(_data + entry.Start, (int)entry.ByteLength);
    }

    /// <summary>A slice of a tensor's bytes, for tensors too large for one span or for reading a row range.</summary>
    public ReadOnlySpan<byte> GetBytes(string name, long byteOffset, int byteCount)
    {
        TensorEntry entry = GetEntry(name);
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        if (byteOffset + byteCount > entry.ByteLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(byteCount), $"bytes [{byteOffset},{byteOffset + byteCount}) lie outside tensor {name} of {entry.ByteLength} bytes");
        }

        return new ReadOnlySpan<byte>(_data + entry.Start + byteOffset, byteCount);
    }

    /// <summary>Converts an F32, F16 or BF16 tensor to float into <paramref name="destination"/> (length = element count).</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        TensorEntry entry = GetEntry(name);
        if (!entry.DType.IsFloatingPoint())
        {
            throw new ModelFormatException(
                Path, $"tensor {name}: dtype is {entry.DType.ToSafeTensorsName()}; expected F32, F16 or BF16 to read as float");
        }

        if (destination.Length != entry.ElementCount)
        {
            throw new ArgumentException(
                $"tensor {name} has {entry.ElementCount} elements but the destination holds {destination.Length}", nameof(destination));
        }

        // Converted in chunks so an F32 tensor over 2 GiB still fits a float span of under 2^31 elements.
        const int chunkElements = 1 << 26;
        int elementSize = entry.DType.ElementSize();
        for (long done = 0; done < destination.Length; done += chunkElements)
        {
            int count = (int)Math.Min(chunkElements, destination.Length - done);
            var source = new ReadOnlySpan<byte>(_data + entry.Start + (done * elementSize), count * elementSize);
            FloatConversion.ToFloat32(entry.DType, source, destination.Slice((int)done, count));
        }
    }

    public float[] ReadFloat32(string name)
    {
        var values = new float[CheckedArrayLength(name)];
        ReadFloat32(name, values);
        return values;
    }

    public sbyte[] ReadInt8(string name) => ReadInts<sbyte>(name, TensorDType.I8);

    public int[] ReadInt32(string name) => ReadInts<int>(name, TensorDType.I32);

    public long[] ReadInt64(string name) => ReadInts<long>(name, TensorDType.I64);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mapping.Dispose();
    }

    private T[] ReadInts<T>(string name, TensorDType expected)
        where T : unmanaged
    {
        TensorEntry entry = GetEntry(name);
        if (entry.DType != expected)
        {
            throw new ModelFormatException(
                Path, $"tensor {name}: dtype is {entry.DType.ToSafeTensorsName()}; expected {expected.ToSafeTensorsName()}");
        }

        var values = new T[CheckedArrayLength(name)];

        // Copied in element chunks because the byte length of an I32/I64 array may exceed a span's int range.
        const int chunkElements = 1 << 26;
        int elementSize = expected.ElementSize();
        for (long done = 0; done < values.Length; done += chunkElements)
        {
            int count = (int)Math.Min(chunkElements, values.Length - done);
            var source = new ReadOnlySpan<byte>(_data + entry.Start + (done * elementSize), count * elementSize);
            MemoryMarshal.Cast<byte, T>(source).CopyTo(values.AsSpan((int)done, count));
        }

        return values;
    }

    private int CheckedArrayLength(string name)
    {
        long count = GetEntry(name).ElementCount;
        if (count > Array.MaxLength)
        {
            throw new ModelFormatException(
                Path, $"tensor {name}: {count} elements exceed the {Array.MaxLength}-element limit of a .NET array");
        }

        return (int)count;
    }
}
