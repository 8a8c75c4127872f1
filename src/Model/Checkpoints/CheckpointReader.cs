using System.Text.Json;
using OrleansQuant.Model.Files;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// A Hugging Face model directory holding either model.safetensors or model.safetensors.index.json with shards.
/// Shards are mapped on first access, so a layer grain that reads only its own tensors maps only its own shards.
/// Like transformers, a single model.safetensors wins over an index when both are present.
/// Spans returned by this type are valid until <see cref="Dispose"/>. Safe for concurrent reads.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    private readonly Dictionary<string, string> _weightMap;
    private readonly Dictionary<string, SafeTensorsFile> _openShards = new(StringComparer.Ordinal);
    private readonly Lock _shardLock = new();
    private bool _disposed;

    private CheckpointReader(string directory, string layoutFile, Dictionary<string, string> weightMap)
    {
        Directory = directory;
        LayoutFile = layoutFile;
        _weightMap = weightMap;
        ShardFiles = weightMap.Values.Distinct(StringComparer.Ordinal).ToArray();
    }

    public string Directory { get; }

    /// <summary>model.safetensors or model.safetensors.index.json: the file that said where each tensor lives.</summary>
    public string LayoutFile { get; }

    public bool IsSharded => Path.GetFileName(LayoutFile) == CheckpointFiles.IndexFile;

    public IReadOnlyCollection<string> TensorNames => _weightMap.Keys;

    /// <summary>Shard file names relative to <see cref="Directory"/>, in first-mention order.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    public static CheckpointReader Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelFormatException(directory, "directory does not exist; expected a Hugging Face model directory");
        }

        string single = Path.Combine(directory, CheckpointFiles.SingleFile);
        if (File.Exists(single))
        {
            var file = SafeTensorsFile.Open(single);
            var weightMap = file.Tensors.Keys.ToDictionary(name => name, _ => CheckpointFiles.SingleFile, StringComparer.Ordinal);
            var reader = new CheckpointReader(directory, single, weightMap);
            reader._openShards.Add(CheckpointFiles.SingleFile, file);
            return reader;
        }

        string index = Path.Combine(directory, CheckpointFiles.IndexFile);
        if (File.Exists(index))
        {
            return new CheckpointReader(directory, index, ReadIndex(directory, index));
        }

        throw new ModelFormatException(
            directory, $"neither {CheckpointFiles.SingleFile} nor {CheckpointFiles.IndexFile} found; expected a safetensors checkpoint");
    }

    public bool Contains(string name) => _weightMap.ContainsKey(name);

    /// <summary>Path of the shard that holds <paramref name="name"/>, without mapping it.</summary>
    public string GetShardPath(string name) => Path.Combine(Directory, ShardFileOf(name));

    public TensorEntry GetEntry(string name) => ShardOf(name).GetEntry(name);

    public ReadOnlySpan<byte> GetBytes(string name) => ShardOf(name).GetBytes(name);

    public ReadOnlySpan<byte> GetBytes(string name, long byteOffset, int byteCount) =>
        ShardOf(name).GetBytes(name, byteOffset, byteCount);

    public float[] ReadFloat32(string name) => ShardOf(name).ReadFloat32(name);

    public void ReadFloat32(string name, Span<float> destination) => ShardOf(name).ReadFloat32(name, destination);

    public sbyte[] ReadInt8(string name) => ShardOf(name).ReadInt8(name);

    public int[] ReadInt32(string name) => ShardOf(name).ReadInt32(name);

    public long[] ReadInt64(string name) => ShardOf(name).ReadInt64(name);

    public void Dispose()
    {
        lock (_shardLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (SafeTensorsFile shard in _openShards.Values)
            {
                shard.Dispose();
            }

            _openShards.Clear();
        }
    }

    private string ShardFileOf(string name)
    {
        if (!_weightMap.TryGetValue(name, out string? shardFile))
        {
            throw new ModelFormatException(LayoutFile, $"tensor {name}: not in the checkpoint");
        }

        return shardFile;
    }

    private SafeTensorsFile ShardOf(string name)
    {
        string shardFile = ShardFileOf(name);
        SafeTensorsFile shard;
        lock (_shardLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_openShards.TryGetValue(shardFile, out shard!))
            {
                shard = SafeTensorsFile.Open(Path.Combine(Directory, shardFile));
                _openShards.Add(shardFile, shard);
            }
        }

        if (!shard.Tensors.ContainsKey(name))
        {
            throw new ModelFormatException(
                shard.Path, $"tensor {name}: listed for this shard in {CheckpointFiles.IndexFile} but missing from it");
        }

        return shard;
    }

    private static Dictionary<string, string> ReadIndex(string directory, string indexPath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(InputFile.ReadAllBytes(indexPath, InputLimits.CheckpointIndex, "a safetensors index (weight_map of tensor → shard)"));
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(indexPath, $"not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            Files.JsonStrings.RequireValid(document.RootElement, indexPath);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement weightMap)
                || weightMap.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(indexPath, "'weight_map' is missing or not an object; expected tensor name → shard file");
            }

            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            var checkedShards = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in weightMap.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new ModelFormatException(
                        indexPath, $"weight_map entry for tensor {entry.Name} is not a string; expected a shard file name");
                }

                string shardFile = entry.Value.GetString()!;

                // A shard outside the model directory would let an index read arbitrary files.
                if (shardFile.Length == 0 || Path.GetFileName(shardFile) != shardFile || shardFile is "." or "..")
                {
                    throw new ModelFormatException(
                        indexPath, $"weight_map names shard '{shardFile}' for tensor {entry.Name}; expected a file name inside the model directory");
                }

                if (checkedShards.Add(shardFile))
                {
                    CheckShard(indexPath, Path.Combine(directory, shardFile), shardFile, entry.Name);
                }

                if (!map.TryAdd(entry.Name, shardFile))
                {
                    throw new ModelFormatException(indexPath, $"weight_map lists tensor {entry.Name} twice");
                }
            }

            CheckRequiredFiles(directory, indexPath, document.RootElement);
            return map;
        }
    }

    private static void CheckShard(string indexPath, string shardPath, string shardFile, string tensor)
    {
        FileKind kind = FileKinds.Of(shardPath);
        if (kind == FileKind.Missing)
        {
            throw new ModelFormatException(
                indexPath, $"weight_map names shard '{shardFile}' for tensor {tensor}, but the file does not exist");
        }

        if (kind != FileKind.Regular)
        {
            throw new ModelFormatException(
                shardPath, $"is {FileKinds.Describe(kind)}; expected a safetensors shard (a regular file), as {CheckpointFiles.IndexFile} names it for tensor {tensor}");
        }
    }

    // A save that was cut short must not load as complete: the files the writer listed in the index must all be here.
    private static void CheckRequiredFiles(string directory, string indexPath, JsonElement root)
    {
        if (!root.TryGetProperty("metadata", out JsonElement metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty(CheckpointIndex.RequiredFilesKey, out JsonElement files))
        {
            return;
        }

        string field = $"metadata.{CheckpointIndex.RequiredFilesKey}";
        if (files.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(indexPath, $"'{field}' is a JSON {JsonKinds.Describe(files.ValueKind)}; expected an array of file names");
        }

        foreach (JsonElement file in files.EnumerateArray())
        {
            string? name = file.ValueKind == JsonValueKind.String ? file.GetString() : null;
            if (string.IsNullOrEmpty(name) || Path.GetFileName(name) != name || name is "." or "..")
            {
                throw new ModelFormatException(indexPath, $"'{field}' entry {file.GetRawText()} is not a file name; expected a file inside the model directory");
            }

            string path = Path.Combine(directory, name);
            FileKind kind = FileKinds.Of(path);
            if (kind != FileKind.Regular)
            {
                throw new ModelFormatException(
                    path, $"is {FileKinds.Describe(kind)}, but {CheckpointFiles.IndexFile} lists it in '{field}'; expected the file the save wrote (was the save interrupted?)");
            }
        }
    }
}
