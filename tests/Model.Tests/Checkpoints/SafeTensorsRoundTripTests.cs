using System.Buffers.Binary;
using System.Text;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Checkpoints;

public sealed class SafeTensorsRoundTripTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Every_dtype_round_trips_with_exact_values()
    {
        float[] floats = [1.0f, -2.5f, 3.14159f, 0f, 1e-3f, -65504f];
        sbyte[] int8 = [-128, -1, 0, 1, 127, 42];
        int[] int32 = [int.MinValue, -7, 0, 7, int.MaxValue, 123456];
        long[] int64 = [long.MinValue, -1, 0, 1, long.MaxValue, 1L << 40];

        var writer = new SafeTensorsWriter();
        writer.AddFloat32("f32", [2, 3], floats);
        writer.AddFloat32("f16", [2, 3], floats, TensorDType.F16);
        writer.AddFloat32("bf16", [3, 2], floats, TensorDType.BF16);
        writer.AddInt8("i8", [6], int8);
        writer.AddInt32("i32", [1, 6], int32);
        writer.AddInt64("i64", [6, 1], int64);
        string path = _temp.File("all.safetensors");
        writer.WriteTo(path);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["f32", "f16", "bf16", "i8", "i32", "i64"], file.Tensors.Keys);
        Assert.Equal(floats, file.ReadFloat32("f32"));
        Assert.Equal(floats.Select(v => (float)(Half)v).ToArray(), file.ReadFloat32("f16"));
        Assert.Equal(int8, file.ReadInt8("i8"));
        Assert.Equal(int32, file.ReadInt32("i32"));
        Assert.Equal(int64, file.ReadInt64("i64"));

        // BF16 keeps the top 16 bits of the rounded float: 1.0 and -2.5 are exact, 3.14159 becomes 0x4049 = 3.140625.
        float[] bf16 = file.ReadFloat32("bf16");
        Assert.Equal(1.0f, bf16[0]);
        Assert.Equal(-2.5f, bf16[1]);
        Assert.Equal(3.140625f, bf16[2]);
        byte[] bf16Bytes = file.GetBytes("bf16").ToArray();
        Assert.Equal(0x3F80, BinaryPrimitives.ReadUInt16LittleEndian(bf16Bytes.AsSpan(0)));
        Assert.Equal(0xC020, BinaryPrimitives.ReadUInt16LittleEndian(bf16Bytes.AsSpan(2)));
        Assert.Equal(0x4049, BinaryPrimitives.ReadUInt16LittleEndian(bf16Bytes.AsSpan(4)));

        byte[] f16Bytes = file.GetBytes("f16").ToArray();
        Assert.Equal(0x3C00, BinaryPrimitives.ReadUInt16LittleEndian(f16Bytes.AsSpan(0)));
        Assert.Equal(0xC100, BinaryPrimitives.ReadUInt16LittleEndian(f16Bytes.AsSpan(2)));
        Assert.Equal(0x4248, BinaryPrimitives.ReadUInt16LittleEndian(f16Bytes.AsSpan(4)));

        TensorEntry entry = file.Tensors["bf16"];
        Assert.Equal(TensorDType.BF16, entry.DType);
        Assert.Equal([3L, 2L], entry.Shape);
        Assert.Equal(6, entry.ElementCount);
        Assert.Equal(12, entry.ByteLength);
    }

    [Fact]
    public void Raw_bytes_and_metadata_round_trip()
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Metadata["quantization"] = "w8a8 \"smoothquant\"";
        byte[] raw = [1, 2, 3, 4, 5, 6, 7, 8];
        writer.Add("raw", TensorDType.I32, [2], raw);
        writer.AddFloat32("scalar", [], [42f]);
        writer.AddFloat32("empty", [0, 4], []);
        string path = _temp.File("m.safetensors");
        writer.WriteTo(path);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("w8a8 \"smoothquant\"", file.Metadata["quantization"]);
        Assert.Equal(raw, file.GetBytes("raw").ToArray());
        Assert.Equal([42f], file.ReadFloat32("scalar"));
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal([3, 4], file.GetBytes("raw", 2, 2).ToArray());
    }

    [Fact]
    public void File_layout_matches_the_reference_writer_byte_for_byte()
    {
        // What Python's safetensors.numpy.save_file({"a": np.array([1, 2], np.float32)}) writes.
        var writer = new SafeTensorsWriter();
        writer.AddFloat32("a", [2], [1f, 2f]);
        string path = _temp.File("a.safetensors");
        writer.WriteTo(path);

        byte[] bytes = File.ReadAllBytes(path);
        const string json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        string paddedHeader = json + "  "; // 54 bytes of JSON, space-padded to 56
        Assert.Equal((ulong)paddedHeader.Length, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(0, paddedHeader.Length % 8);
        Assert.Equal(paddedHeader, Encoding.UTF8.GetString(bytes, 8, paddedHeader.Length));
        Assert.Equal(new byte[] { 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40 }, bytes[(8 + paddedHeader.Length)..]);
    }

    [Fact]
    public void ReadFloat32_into_a_span_checks_its_length()
    {
        var writer = new SafeTensorsWriter();
        writer.AddFloat32("w", [4], [1f, 2f, 3f, 4f], TensorDType.BF16);
        string path = _temp.File("w.safetensors");
        writer.WriteTo(path);

        using var file = SafeTensorsFile.Open(path);
        var destination = new float[4];
        file.ReadFloat32("w", destination);
        Assert.Equal([1f, 2f, 3f, 4f], destination);
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("w", new float[3]));
    }

    [Fact]
    public void Writer_rejects_data_that_does_not_match_the_shape_and_duplicate_names()
    {
        var writer = new SafeTensorsWriter();
        var wrongLength = Assert.Throws<ArgumentException>(() => writer.Add("x", TensorDType.F32, [2, 2], new byte[12]));
        Assert.Contains("tensor x: 12 bytes for shape [2,2] of F32, expected 16", wrongLength.Message);

        writer.AddFloat32("x", [1], [1f]);
        Assert.Throws<ArgumentException>(() => writer.AddFloat32("x", [1], [1f]));
        Assert.Throws<ArgumentException>(() => writer.AddFloat32("y", [2], [1f, 2f], TensorDType.I8));
        Assert.Throws<ArgumentException>(() => writer.AddInt8("__metadata__", [1], [1]));
    }

    [Fact]
    public void Reading_with_the_wrong_dtype_or_an_unknown_name_names_file_tensor_and_expectation()
    {
        var writer = new SafeTensorsWriter();
        writer.AddInt8("q", [2], [1, 2]);
        writer.AddFloat32("w", [1], [1f]);
        string path = _temp.File("d.safetensors");
        writer.WriteTo(path);

        using var file = SafeTensorsFile.Open(path);
        var asFloat = Assert.Throws<ModelFormatException>(() => file.ReadFloat32("q"));
        Assert.Contains(path, asFloat.Message);
        Assert.Contains("tensor q: dtype is I8; expected F32, F16 or BF16", asFloat.Message);

        var asInt32 = Assert.Throws<ModelFormatException>(() => file.ReadInt32("w"));
        Assert.Contains("tensor w: dtype is F32; expected I32", asInt32.Message);

        var unknown = Assert.Throws<ModelFormatException>(() => file.GetBytes("missing"));
        Assert.Contains(path, unknown.Message);
        Assert.Contains("tensor missing: not in this file", unknown.Message);
    }
}
