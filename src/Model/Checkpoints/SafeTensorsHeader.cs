using System.Globalization;
using System.Text.Json;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// The JSON header of a safetensors file (https://github.com/huggingface/safetensors#format):
/// parsed and fully validated before any tensor byte is touched, and serialised the way the Rust
/// reference writer does (compact JSON, "__metadata__" first, padded with spaces to 8 bytes).
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>Same cap as the reference implementation, so a corrupt length cannot make us allocate gigabytes.</summary>
    public const long MaxHeaderLength = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private SafeTensorsHeader(Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public Dictionary<string, TensorEntry> Tensors { get; }

    public Dictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates the header; <paramref name="dataLength"/> is the size of the data section.</summary>
    public static SafeTensorsHeader Parse(string path, ReadOnlyMemory<byte> json, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(path, $"header is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            Files.JsonStrings.RequireValid(document.RootElement, path);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(
                    path, $"header is a JSON {JsonKinds.Describe(document.RootElement.ValueKind)}; expected an object");
            }

            var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw new ModelFormatException(path, $"header has two '{MetadataKey}' entries");
                    }

                    sawMetadata = true;
                    ParseMetadata(path, property.Value, metadata);
                    continue;
                }

                TensorEntry entry = ParseTensor(path, property.Name, property.Value, dataLength);
                if (!tensors.TryAdd(entry.Name, entry))
                {
                    throw new ModelFormatException(path, $"tensor {entry.Name}: appears twice in the header");
                }
            }

            CheckNoOverlap(path, tensors.Values);
            return new SafeTensorsHeader(tensors, metadata);
        }
    }

    /// <summary>Header bytes, already padded; offsets in <paramref name="tensors"/> are relative to the data section.</summary>
    public static byte[] Serialize(IEnumerable<TensorEntry> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var metadataList = metadata.ToList();
            if (metadataList.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadataList)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            foreach (TensorEntry entry in tensors)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType.ToSafeTensorsName());
                writer.WriteStartArray("shape");
                foreach (long dim in entry.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Start);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // Padding keeps the data section 8-byte aligned, so mapped F32/I64 tensors can be read without unaligned loads.
        int padding = (int)((8 - (buffer.Length % 8)) % 8);
        for (int i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }

        return buffer.ToArray();
    }

    private static void ParseMetadata(string path, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(
                path, $"'{MetadataKey}' is a JSON {JsonKinds.Describe(element.ValueKind)}; expected an object of strings");
        }

        foreach (JsonProperty item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new ModelFormatException(
                    path, $"'{MetadataKey}.{item.Name}' is a JSON {JsonKinds.Describe(item.Value.ValueKind)}; expected a string");
            }

            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static TensorEntry ParseTensor(string path, string name, JsonElement element, long dataLength)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(
                path, $"tensor {name}: entry is a JSON {JsonKinds.Describe(element.ValueKind)}; expected an object with dtype, shape and data_offsets");
        }

        if (!element.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new ModelFormatException(path, $"tensor {name}: 'dtype' is missing or not a string");
        }

        string dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypeExtensions.TryParseSafeTensorsName(dtypeName, out TensorDType? parsed))
        {
            throw new ModelFormatException(
                path, $"tensor {name}: unsupported dtype '{dtypeName}'; expected one of F32, F16, BF16, I8, I32, I64");
        }

        TensorDType dtype = parsed.Value;
        long[] shape = ReadNonNegativeIntegers(path, name, element, "shape", expectedCount: null);
        long[] offsets = ReadNonNegativeIntegers(path, name, element, "data_offsets", expectedCount: 2);
        long start = offsets[0];
        long end = offsets[1];
        if (start > end)
        {
            throw new ModelFormatException(
                path, $"tensor {name}: data_offsets [{start},{end}] begin after they end; expected begin <= end");
        }

        long expected;
        try
        {
            expected = dtype.ElementSize();
            foreach (long dim in shape)
            {
                expected = checked(expected * dim);
            }
        }
        catch (OverflowException)
        {
            throw new ModelFormatException(
                path, $"tensor {name}: shape {FormatShape(shape)} of {dtypeName} overflows a 64-bit byte count");
        }

        if (end - start != expected)
        {
            throw new ModelFormatException(
                path,
                $"tensor {name}: {end - start} bytes for shape {FormatShape(shape)} of {dtypeName}, expected {expected}");
        }

        // A truncated file keeps its header intact, so this is the rule that catches it.
        if (end > dataLength)
        {
            throw new ModelFormatException(
                path, $"tensor {name}: data_offsets [{start},{end}] lie outside the data section of {dataLength} bytes");
        }

        return new TensorEntry(name, dtype, shape, start, end);
    }

    private static long[] ReadNonNegativeIntegers(string path, string tensor, JsonElement element, string field, int? expectedCount)
    {
        string expectation = expectedCount is { } count ? $"an array of {count} non-negative integers" : "an array of non-negative integers";
        if (!element.TryGetProperty(field, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(path, $"tensor {tensor}: '{field}' is missing or not an array; expected {expectation}");
        }

        if (expectedCount is { } n && array.GetArrayLength() != n)
        {
            throw new ModelFormatException(
                path, $"tensor {tensor}: '{field}' has {array.GetArrayLength()} entries; expected {expectation}");
        }

        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
            {
                throw new ModelFormatException(
                    path, $"tensor {tensor}: '{field}' entry {item.GetRawText()} is not a non-negative integer; expected {expectation}");
            }

            values[i++] = value;
        }

        return values;
    }

    private static void CheckNoOverlap(string path, IEnumerable<TensorEntry> tensors)
    {
        // Empty tensors occupy no bytes, so they cannot collide with anything even when they share an offset.
        TensorEntry? furthest = null;
        foreach (TensorEntry entry in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Start).ThenBy(t => t.End))
        {
            if (furthest is not null && entry.Start < furthest.End)
            {
                throw new ModelFormatException(
                    path,
                    $"tensors {furthest.Name} and {entry.Name} overlap: data_offsets [{furthest.Start},{furthest.End}] and [{entry.Start},{entry.End}]");
            }

            if (furthest is null || entry.End > furthest.End)
            {
                furthest = entry;
            }
        }
    }

    internal static string FormatShape(IEnumerable<long> shape) =>
        "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
