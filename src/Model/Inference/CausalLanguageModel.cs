using System.Diagnostics;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// A whole decoder-only model on one device: embedding → decoder layers → final norm → lm_head.
/// The single-process engine; the cluster runs the same <see cref="DecoderLayer"/>s inside grains.
/// </summary>
public sealed class CausalLanguageModel : IDisposable
{
    public CausalLanguageModel(ModelConfig config, OutputHead head, IReadOnlyList<DecoderLayer> layers, CompressedTensorsConfig? quantization = null)
    {
        Quantization = quantization;
        Config = config;
        Head = head;
        Layers = layers;
    }

    public ModelConfig Config { get; }

    /// <summary>The checkpoint's compressed-tensors <c>quantization_config</c>, for a quantized checkpoint.</summary>
    public CompressedTensorsConfig? Quantization { get; }

    public OutputHead Head { get; }

    public IReadOnlyList<DecoderLayer> Layers { get; }

    public IComputeDevice Device => Head.Device;

    /// <summary>
    /// Loads a Hugging Face checkpoint directory, or generates a synthetic model (<c>synthetic:NAME</c>), onto
    /// <paramref name="device"/>, reporting each layer as it lands.
    /// </summary>
    public static CausalLanguageModel Load(string directory, IComputeDevice device, IProgress<LoadProgress>? progress = null,
        WeightPrecision precision = WeightPrecision.Auto)
    {
        using var checkpoint = ModelSource.Open(directory, precision);
        var config = checkpoint.Config;
        var clock = Stopwatch.StartNew();
        var head = checkpoint.LoadHead(device);
        var layers = new List<DecoderLayer>(config.NumHiddenLayers);
        try
        {
            for (int i = 0; i < config.NumHiddenLayers; i++)
            {
                layers.Add(new DecoderLayer(i, config, checkpoint.LoadLayer(i, device), device, checkpoint.Precision.StorageOn(device)));
                progress?.Report(new LoadProgress(i + 1, config.NumHiddenLayers, clock.Elapsed));
            }
        }
        catch
        {
            // A bad tensor in layer k must not strand the device memory of the head and layers 0..k-1.
            layers.ForEach(layer => layer.Dispose());
            head.Dispose();
            throw;
        }

        return new CausalLanguageModel(config, head, layers, checkpoint.Quantization);
    }

    /// <summary>
    /// Runs one step over a batch and returns logits: of every row when <paramref name="allPositions"/> (for
    /// evaluation), otherwise of each chunk's last token, one row per chunk (for generation).
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> tokens, ForwardBatch batch, bool allPositions = false)
    {
        if (tokens.Length != batch.TokenCount)
        {
            throw new ArgumentException($"{tokens.Length} tokens for a batch of {batch.TokenCount}", nameof(tokens));
        }

        using var hidden = Head.Embed(tokens);
        foreach (var layer in Layers)
        {
            layer.Forward(hidden, batch);
        }

        int[] rows = allPositions
            ? Enumerable.Range(0, batch.TokenCount).ToArray()
            : Enumerable.Range(0, batch.Chunks.Count).Select(batch.LastRow).ToArray();
        return Head.Logits(hidden, rows);
    }

    /// <summary>Frees a finished sequence's KV cache in every layer.</summary>
    public void EndSequence(long sequenceId)
    {
        foreach (var layer in Layers)
        {
            layer.EndSequence(sequenceId);
        }
    }

    public void Dispose()
    {
        foreach (var layer in Layers)
        {
            layer.Dispose();
        }

        Head.Dispose();
    }
}
