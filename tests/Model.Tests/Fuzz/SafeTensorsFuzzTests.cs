using System.Buffers.Binary;
using System.Text;
using CsCheck;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>safetensors files, mutated and generated: opened and every tensor read, or refused by name.</summary>
public sealed class SafeTensorsFuzzTests : IDisposable
{
    private static readonly string[] s_dtypes = ["F32", "F16", "BF16", "I8", "I32", "I64", "U8", "F64", "BOOL", "f32", ""];

    private readonly TempDirectory _temp = new();
    private readonly byte[] _valid;

    public SafeTensorsFuzzTests()
    {
        var writer = new CheckpointWriter();
        writer.AddFloat32("a", [2, 3], [1, 2, 3, 4, 5, 6]);
        writer.AddFloat32("b", [4], [1, -2, 3, -4], TensorDType.BF16);
        writer.AddFloat32("c", [2], [0.5f, 8], TensorDType.F16);
        writer.AddInt8("d", [3], [1, -1, 127]);
        writer.AddInt64("e", [1], [long.MaxValue]);
        writer.WriteTo(_temp.Path);
        _valid = File.ReadAllBytes(_temp.File(CheckpointFiles.SingleFile));
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Mutated_files_are_read_or_refused_by_name() =>
        Gen.Select(Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (kind, seed) => OpenAndReadAll(Mutations.Apply(_valid, kind, seed)), iter: FuzzRules.Cases);

    [Fact]
    public void Mutated_headers_behind_a_correct_length_prefix_are_read_or_refused_by_name()
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(_valid);
        byte[] header = _valid[8..(8 + headerLength)];
        byte[] data = _valid[(8 + headerLength)..];
        Gen.Select(Gen.Int[0, Mutations.Kinds - 1], Gen.Int).Sample(
            (kind, seed) => OpenAndReadAll(WithHeader(Mutations.Apply(header, kind, seed), data)), iter: FuzzRules.Cases);
    }

    [Fact]
    public void Generated_headers_with_any_dtype_shape_and_offsets_are_read_or_refused_by_name()
    {
        var dimension = Gen.OneOf(Gen.Long[0, 8], Gen.Long[0, long.MaxValue], Gen.OneOf<long>(int.MaxValue + 1L, long.MaxValue, 1L << 32));
        var tensor = Gen.Select(Gen.OneOf<string>(s_dtypes), dimension.Array[0, 4], Gen.Long[0, 64], Gen.Long[0, 64]);
        Gen.Select(tensor.Array[0, 4], Gen.Int[0, 256]).Sample(
            (tensors, dataBytes) =>
            {
                var json = new StringBuilder("{");
                for (int i = 0; i < tensors.Length; i++)
                {
                    var (dtype, shape, start, length) = tensors[i];
                    json.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{start},{start + length}]}}");
                }

                OpenAndReadAll(WithHeader(Encoding.UTF8.GetBytes(json.Append('}').ToString()), new byte[dataBytes]));
            },
            iter: FuzzRules.Cases);
    }

    [Fact]
    public void A_length_prefix_of_any_value_is_refused_by_name() =>
        Gen.ULong.Sample(
            length =>
            {
                var bytes = (byte[])_valid.Clone();
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
                OpenAndReadAll(bytes);
            },
            iter: FuzzRules.Cases);

    private static byte[] WithHeader(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private void OpenAndReadAll(byte[] bytes)
    {
        string path = FuzzRules.CaseFile(_temp.Path, "model.safetensors");
        File.WriteAllBytes(path, bytes);
        try
        {
            FuzzRules.ReadsOrRefuses<ModelFormatException>(path, () =>
            {
                using var file = SafeTensorsFile.Open(path);
                foreach (var entry in file.Tensors.Values)
                {
                    switch (entry.DType)
                    {
                        case TensorDType.F32 or TensorDType.F16 or TensorDType.BF16:
                            float[] values = file.ReadFloat32(entry.Name);
                            NonFiniteScan.IndexOf(values);
                            break;
                        case TensorDType.I8:
                            file.ReadInt8(entry.Name);
                            break;
                        case TensorDType.I32:
                            file.ReadInt32(entry.Name);
                            break;
                        case TensorDType.I64:
                            file.ReadInt64(entry.Name);
                            break;
                    }
                }
            });
        }
        finally
        {
            File.Delete(path);
        }
    }
}
