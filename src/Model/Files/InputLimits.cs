namespace OrleansQuant.Model.Files;

/// <summary>
/// The largest file of each kind that is read whole into memory. Each is far above any published model's file
/// (Llama 3's config.json is 1 KB, its tokenizer.json 9 MB), so only a wrong or hostile file reaches it.
/// </summary>
public static class InputLimits
{
    private const long MiB = 1 << 20;

    public const long ConfigJson = 16 * MiB;

    public const long TokenizerJson = 256 * MiB;

    /// <summary>tokenizer_config.json (chat templates and added tokens, rarely over 1 MB).</summary>
    public const long TokenizerConfig = 64 * MiB;

    /// <summary>model.safetensors.index.json: about 100 bytes per tensor, so 64 MB covers over half a million tensors.</summary>
    public const long CheckpointIndex = 64 * MiB;

    public const long Recipe = 1 * MiB;

    /// <summary>A plain-text calibration corpus, packed in memory; JSONL is streamed line by line and has no cap.</summary>
    public const long CalibrationText = 512 * MiB;
}
