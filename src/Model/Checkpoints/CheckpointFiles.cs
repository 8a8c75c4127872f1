using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>File names of a Hugging Face safetensors checkpoint, spelled as transformers spells them.</summary>
public static partial class CheckpointFiles
{
    public const string SingleFile = "model.safetensors";

    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>"model-00001-of-00003.safetensors": 1-based, five digits, as transformers' save_pretrained names shards.</summary>
    public static string ShardName(int index, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"model-{index:D5}-of-{count:D5}.safetensors");

    /// <summary>True for any file a previous save of a checkpoint may have left behind.</summary>
    public static bool IsCheckpointFile(string fileName) =>
        fileName == SingleFile || fileName == IndexFile || ShardPattern().IsMatch(fileName);

    /// <summary>
    /// Deletes the checkpoint files a previous save left in <paramref name="directory"/> that are not in
    /// <paramref name="keep"/>: a stale model.safetensors would win over a new index, and stale shards waste the disk.
    /// </summary>
    internal static void DeleteStale(string directory, IReadOnlyCollection<string> keep)
    {
        foreach (string stale in Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>()
                     .Where(name => IsCheckpointFile(name) && !keep.Contains(name, StringComparer.Ordinal)).ToList())
        {
            File.Delete(Path.Combine(directory, stale));
        }
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardPattern();
}
