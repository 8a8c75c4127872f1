using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Checkpoints;

/// <summary>One malformed file per header rule; each must be refused with a message naming the file and the rule.</summary>
public sealed class SafeTensorsValidationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void File_shorter_than_the_length_prefix()
    {
        string path = _temp.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertRefused(path, "file is 3 bytes, shorter than the 8-byte header length prefix");
    }

    [Fact]
    public void Header_longer_than_the_file()
    {
        string path = _temp.File("long.safetensors");
        RawSafeTensors.Write(path, "{}", dataBytes: 0, declaredHeaderLength: 1000);
        AssertRefused(path, "header length 1000 exceeds the file: only 2 bytes follow");
    }

    [Fact]
    public void Header_that_is_not_json()
    {
        string path = _temp.File("garbage.safetensors");
        RawSafeTensors.Write(path, "{\"a\": ", dataBytes: 0);
        AssertRefused(path, "header is not valid JSON");
    }

    [Fact]
    public void Header_that_is_not_an_object()
    {
        string path = _temp.File("array.safetensors");
        RawSafeTensors.Write(path, "[1,2]", dataBytes: 0);
        AssertRefused(path, "header is a JSON array; expected an object");
    }

    [Fact]
    public void Truncated_data_section()
    {
        // The header promises 16 bytes, but the download stopped after 10.
        string path = _temp.File("truncated.safetensors");
        RawSafeTensors.Write(path, "{\"model.embed\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", dataBytes: 10);
        AssertRefused(path, "tensor model.embed: data_offsets [0,16] lie outside the data section of 10 bytes");
    }

    [Fact]
    public void Overlapping_tensors()
    {
        string path = _temp.File("overlap.safetensors");
        RawSafeTensors.Write(
            path,
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
            dataBytes: 16);
        AssertRefused(path, "tensors a and b overlap");
    }

    [Fact]
    public void Tensor_nested_inside_a_larger_one_still_overlaps()
    {
        string path = _temp.File("nested.safetensors");
        RawSafeTensors.Write(
            path,
            "{\"big\":{\"dtype\":\"I8\",\"shape\":[32],\"data_offsets\":[0,32]},\"x\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[4,8]},"
            + "\"y\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[16,20]}}",
            dataBytes: 32);
        AssertRefused(path, "tensors big and x overlap");
    }

    [Fact]
    public void Byte_length_that_does_not_match_dtype_and_shape()
    {
        string path = _temp.File("mismatch.safetensors");
        RawSafeTensors.Write(
            path, "{\"layers.0.q_proj.weight\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,10]}}", dataBytes: 16);
        AssertRefused(path, "tensor layers.0.q_proj.weight: 10 bytes for shape [2,3] of BF16, expected 12");
    }

    [Fact]
    public void Unknown_dtype()
    {
        string path = _temp.File("f8.safetensors");
        RawSafeTensors.Write(path, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", dataBytes: 4);
        AssertRefused(path, "tensor w: unsupported dtype 'F8_E4M3'");
    }

    [Fact]
    public void Negative_dimension()
    {
        string path = _temp.File("negative.safetensors");
        RawSafeTensors.Write(path, "{\"w\":{\"dtype\":\"I8\",\"shape\":[-4],\"data_offsets\":[0,4]}}", dataBytes: 4);
        AssertRefused(path, "tensor w: 'shape' entry -4 is not a non-negative integer");
    }

    [Fact]
    public void Offsets_that_begin_after_they_end()
    {
        string path = _temp.File("reversed.safetensors");
        RawSafeTensors.Write(path, "{\"w\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[4,0]}}", dataBytes: 4);
        AssertRefused(path, "tensor w: data_offsets [4,0] begin after they end");
    }

    [Fact]
    public void Offsets_with_the_wrong_count()
    {
        string path = _temp.File("three.safetensors");
        RawSafeTensors.Write(path, "{\"w\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4,8]}}", dataBytes: 8);
        AssertRefused(path, "tensor w: 'data_offsets' has 3 entries; expected an array of 2 non-negative integers");
    }

    [Fact]
    public void Metadata_value_that_is_not_a_string()
    {
        string path = _temp.File("meta.safetensors");
        RawSafeTensors.Write(path, "{\"__metadata__\":{\"total\":3}}", dataBytes: 0);
        AssertRefused(path, "'__metadata__.total' is a JSON number; expected a string");
    }

    [Fact]
    public void Missing_file()
    {
        string path = _temp.File("nope.safetensors");
        AssertRefused(path, "file does not exist");
    }

    [Fact]
    public void Hand_written_valid_file_with_gaps_and_unpadded_header_is_accepted()
    {
        // Offsets need not be contiguous nor the header padded; both are the writer's choice, not a format rule.
        string path = _temp.File("ok.safetensors");
        RawSafeTensors.Write(
            path,
            "{\"b\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[6,8]},\"a\":{\"dtype\":\"I8\",\"shape\":[2,1],\"data_offsets\":[0,2]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[1,1]}}",
            dataBytes: 8);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(new sbyte[] { 6, 7 }, file.ReadInt8("b"));
        Assert.Equal(new sbyte[] { 0, 1 }, file.ReadInt8("a"));
        Assert.Empty(file.ReadFloat32("e"));
    }

    private static void AssertRefused(string path, string expected)
    {
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Equal(path, error.Source);
    }
}
