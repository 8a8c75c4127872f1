using System.Security.Cryptography;
using System.Text;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Store;

/// <summary>
/// Where quantized layers outlive the processes that built them: one directory per model, one per layer, one per
/// version (<c>ROOT/MODEL/layer-0003/v000002/model.safetensors</c>), so a layer grain that reactivates on another silo,
/// or after a whole-cluster restart, loads its weights at its version instead of calibrating and quantizing again.
/// Each shard is written once, when a build finishes, through the checkpoint writer's own tensor list
/// (<see cref="LayerTensors"/>) and its temporary-file-then-rename write; its SHA-256 is taken from the file as written
/// and checked on every load, so a shard that changed on disk is refused by name rather than served. The root must be
/// a directory every silo can reach (a shared volume in a cluster), as a model's checkpoint directory is.
/// </summary>
public sealed class ModelStore
{
    /// <summary>The file name inside a version directory: a one-file checkpoint layout <see cref="CheckpointReader"/> opens.</summary>
    public const string ShardFile = CheckpointFiles.SingleFile;

    public ModelStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The directory that holds version <paramref name="version"/> of <paramref name="model"/>'s layer <paramref name="layer"/>.</summary>
    public string VersionDirectory(string model, int layer, int version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return Path.Combine(LayerDirectory(model, layer), $"v{version:D6}");
    }

    /// <summary>
    /// Writes <paramref name="weights"/> (run where they live: this downloads them) as the shard of that version,
    /// replacing an earlier write of the same version that was never committed, and returns what grain state records.
    /// </summary>
    public StoredLayerShard Write(string model, int layer, int version, DecoderLayerWeights weights)
    {
        string directory = VersionDirectory(model, layer, version);
        Directory.CreateDirectory(directory);
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Metadata["orleansquant.model"] = model;
        writer.Metadata["orleansquant.layer"] = layer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        writer.Metadata["orleansquant.version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var tensor in LayerTensors.Layer(layer, weights))
        {
            tensor.AddTo(writer);
        }

        // The writer renames a finished temporary file into place, so the checksum below is of a whole file.
        string path = Path.Combine(directory, ShardFile);
        writer.WriteTo(path);
        return new StoredLayerShard(path, Checksum(path), new FileInfo(path).Length);
    }

    /// <summary>
    /// Loads layer <paramref name="layer"/> from <paramref name="shard"/> onto <paramref name="device"/> after checking
    /// that the file is inside this store and still has the checksum recorded when it was written.
    /// </summary>
    /// <exception cref="ModelFormatException">the shard is missing, outside the store, or its bytes changed; naming it.</exception>
    public DecoderLayerWeights Load(StoredLayerShard shard, ModelConfig config, int layer, IComputeDevice device, WeightPrecision precision)
    {
        Verify(shard);
        using var reader = CheckpointReader.Open(Path.GetDirectoryName(shard.Path)!);
        return DecoderLayerWeights.Load(new WeightLoader(reader, device, precision), config, layer);
    }

    /// <summary>Throws unless <paramref name="shard"/> is a file inside this store whose SHA-256 is the one recorded.</summary>
    public void Verify(StoredLayerShard shard)
    {
        string full = Path.GetFullPath(shard.Path);
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ModelFormatException(shard.Path, $"layer shard is outside the model store {Root}; expected a shard this store wrote");
        }

        if (!File.Exists(full))
        {
            throw new ModelFormatException(shard.Path, "layer shard is missing from the model store; expected the file written when the layer was quantized");
        }

        string actual = Checksum(full);
        if (!string.Equals(actual, shard.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFormatException(shard.Path,
                $"layer shard checksum mismatch: SHA-256 is {actual}, expected {shard.Sha256} as recorded when it was written; the file changed on disk");
        }
    }

    /// <summary>Removes the layer's other versions once grain state no longer names them (best effort: a leftover is only disk).</summary>
    public void DeleteOtherVersions(string model, int layer, int keep)
    {
        string directory = LayerDirectory(model, layer);
        if (!Directory.Exists(directory))
        {
            return;
        }

        string kept = Path.GetFileName(VersionDirectory(model, layer, keep));
        foreach (string version in Directory.EnumerateDirectories(directory, "v*"))
        {
            if (Path.GetFileName(version) != kept)
            {
                try
                {
                    Directory.Delete(version, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    /// <summary>The lowercase hex SHA-256 of a file's bytes.</summary>
    public static string Checksum(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private string LayerDirectory(string model, int layer) => Path.Combine(Root, DirectoryName(model), $"layer-{layer:D4}");

    /// <summary>
    /// A model name as one path segment: kept as it is when it is plain (letters, digits, '.', '_', '-', not only dots),
    /// else hex-encoded, so no name can climb out of the store or collide with another name's directory.
    /// </summary>
    public static string DirectoryName(string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        bool plain = model.Length <= 100 && model.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') && model.Trim('.').Length > 0;
        return plain ? model : "~" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(model));
    }
}
