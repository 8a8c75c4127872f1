namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Where a new checkpoint may be written, checked before any work is done, so a bad <c>--out</c> fails at once
/// rather than after an hour of quantization, and the model being read can never be the one overwritten.
/// </summary>
public static class CheckpointTarget
{
    /// <param name="target">the directory the checkpoint is to end up in.</param>
    /// <param name="source">the model's own directory, or null for a model that has none (a synthetic one).</param>
    /// <param name="replaceExisting">whether a non-empty <paramref name="target"/> may be replaced (a save through the cluster);
    /// the CLI refuses it, so nothing is overwritten by a typo.</param>
    /// <exception cref="ArgumentException">naming <paramref name="target"/> and what was expected.</exception>
    public static void Check(string target, string? source, bool replaceExisting)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            throw new ArgumentException("the output directory is empty; expected a path to write the checkpoint to");
        }

        string full = Normalized(target);
        if (source is not null && Directory.Exists(source))
        {
            string model = Normalized(source);
            if (full == model || IsInside(full, model))
            {
                throw new ArgumentException(
                    $"{target}: the output directory is {(full == model ? "the model's own directory" : "inside the model's directory")} {source}; expected another one, so the original stays as it is");
            }

            if (IsInside(model, full))
            {
                throw new ArgumentException(
                    $"{target}: the output directory holds the model's directory {source}; expected one outside it, so the original stays as it is");
            }
        }

        if (File.Exists(full))
        {
            throw new ArgumentException($"{target}: is a file; expected a directory for the checkpoint");
        }

        if (!replaceExisting && Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            throw new ArgumentException($"{target}: exists and is not empty; expected a new or empty directory, so nothing is overwritten");
        }
    }

    internal static string Normalized(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool IsInside(string path, string directory) =>
        path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
