using System.Text.Json;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Writes model.safetensors.index.json as transformers does: <c>json.dumps(index, indent=2, sort_keys=True) + "\n"</c>,
/// with <c>metadata.total_size</c> and <c>weight_map</c> (tensor name → shard file).
/// </summary>
internal static class CheckpointIndex
{
    /// <summary>
    /// metadata entry listing the files besides the shards that the checkpoint needs (config.json, tokenizer files),
    /// so a reader can tell a complete save from a cut-short one. transformers and vLLM read only weight_map and ignore it.
    /// </summary>
    public const string RequiredFilesKey = "required_files";

    /// <summary>
    /// Writes to a temporary file and renames it into place: the index's presence is what tells a reader the shards
    /// are complete, so it must never be seen half-written.
    /// </summary>
    public static void Write(
        string path, long totalSize, IEnumerable<KeyValuePair<string, string>> weightMap, IReadOnlyList<string>? requiredFiles = null)
    {
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    writer.WriteStartObject();
                    writer.WriteStartObject("metadata");
                    if (requiredFiles is { Count: > 0 })
                    {
                        writer.WriteStartArray(RequiredFilesKey);
                        foreach (string file in requiredFiles.Order(StringComparer.Ordinal))
                        {
                            writer.WriteStringValue(file);
                        }

                        writer.WriteEndArray();
                    }

                    writer.WriteNumber("total_size", totalSize);
                    writer.WriteEndObject();
                    writer.WriteStartObject("weight_map");
                    foreach (var (name, shard) in weightMap.OrderBy(entry => entry.Key, StringComparer.Ordinal))
                    {
                        writer.WriteString(name, shard);
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                stream.WriteByte((byte)'\n');
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
