namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// A directory written beside its target under a hidden ".NAME.partial-…" name and renamed into place only when
/// complete (a rename within one file system is atomic), so a save that is interrupted — Ctrl+C, a crash, a full disk —
/// leaves the target as it was and never a directory that loads as a complete checkpoint. Begun before the work, it
/// also proves the target's parent is writable. Disposed without <see cref="Commit"/>, it removes what it wrote.
/// </summary>
public sealed class StagedDirectory : IDisposable
{
    private bool _committed;

    private StagedDirectory(string target, string path)
    {
        Target = target;
        Path = path;
    }

    /// <summary>Where the checkpoint will be once committed.</summary>
    public string Target { get; }

    /// <summary>Where to write it meanwhile: a sibling of <see cref="Target"/>, so the final rename stays on one file system.</summary>
    public string Path { get; }

    /// <exception cref="ArgumentException">the target's parent cannot be written, naming it.</exception>
    public static StagedDirectory Begin(string target)
    {
        string full = CheckpointTarget.Normalized(target);
        string parent = System.IO.Path.GetDirectoryName(full) ?? throw new ArgumentException($"{target}: is a root directory; expected a directory to create");
        string staging = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.partial-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new ArgumentException($"{target}: cannot be written ({ex.Message}); expected a directory this process may create", ex);
        }

        return new StagedDirectory(full, staging);
    }

    /// <summary>Moves the finished directory into place; an empty target is replaced, a non-empty one only when <paramref name="replaceExisting"/>.</summary>
    public void Commit(bool replaceExisting)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        string? aside = null;
        if (Directory.Exists(Target))
        {
            if (!Directory.EnumerateFileSystemEntries(Target).Any())
            {
                Directory.Delete(Target);
            }
            else if (replaceExisting)
            {
                // The old checkpoint steps aside first, so the target is never a mix of two saves.
                aside = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Target)!, $".{System.IO.Path.GetFileName(Target)}.replaced-{Guid.NewGuid():N}");
                Directory.Move(Target, aside);
            }
            else
            {
                _committed = true;
                throw new IOException($"{Target}: was filled while the checkpoint was written; the finished checkpoint is in {Path}");
            }
        }

        Directory.Move(Path, Target);
        _committed = true;
        if (aside is not null)
        {
            Directory.Delete(aside, recursive: true);
        }
    }

    public void Dispose()
    {
        if (!_committed && Directory.Exists(Path))
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover ".partial-" directory has no index, so it never loads as a checkpoint.
            }
        }

        _committed = true;
    }
}
