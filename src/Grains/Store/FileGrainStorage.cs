using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace OrleansQuant.Grains.Store;

/// <summary>
/// Grain state as one file per grain and state name under <c>STORE/grain-state</c>, for clusters without Redis that
/// share the store's directory: what lets a whole-cluster restart find its models again. Each write goes to a
/// temporary file renamed into place (a reader sees the old state or the new, never half of one), and carries an ETag
/// (a fresh id per write, kept beside the state) so a stale activation's write is refused, as Orleans' storage contract
/// asks. Serialized by the silo's <see cref="IGrainStorageSerializer"/> (System.Text.Json unless configured otherwise).
/// </summary>
internal sealed class FileGrainStorage(string directory, IGrainStorageSerializer serializer, ILogger<FileGrainStorage> logger) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var (etag, data) = Split(await File.ReadAllBytesAsync(path), path);
        grainState.State = serializer.Deserialize<T>(new BinaryData(data));
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        CheckETag(path, grainState.ETag, stateName, grainId);
        string etag = Guid.NewGuid().ToString("N");
        byte[] data = serializer.Serialize(grainState.State).ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(etag + "\n"));
            await stream.WriteAsync(data);
            await stream.FlushAsync();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        grainState.ETag = etag;
        grainState.RecordExists = true;
        logger.LogDebug("Wrote {State} of {Grain} to {Path}", stateName, grainId, path);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        CheckETag(path, grainState.ETag, stateName, grainId);
        File.Delete(path);
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private void CheckETag(string path, string? expected, string stateName, GrainId grainId)
    {
        string? stored = File.Exists(path) ? Split(File.ReadAllBytes(path), path).ETag : null;
        if (stored != expected)
        {
            throw new InconsistentStateException(
                $"{path}: {stateName} of {grainId} was written by another activation (ETag {stored ?? "none"}, this one read {expected ?? "none"})",
                stored ?? "", expected ?? "");
        }
    }

    // One segment per state name and grain id, escaped so that no id can name a path outside the directory.
    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(directory, Uri.EscapeDataString(stateName), Uri.EscapeDataString(grainId.ToString()) + ".state");

    private static (string ETag, byte[] Data) Split(byte[] file, string path)
    {
        int newline = Array.IndexOf(file, (byte)'\n');
        if (newline <= 0)
        {
            throw new InvalidDataException($"{path}: grain state file has no ETag line; expected an id, a newline, then the state");
        }

        return (System.Text.Encoding.ASCII.GetString(file, 0, newline), file[(newline + 1)..]);
    }
}
