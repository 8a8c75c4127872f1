using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Demo;

/// <summary>
/// Writes a <see cref="DemoModelSpec"/> as a Hugging Face checkpoint directory (config.json, safetensors, tokenizer
/// files) that transformers and this project both load. The same spec always gives the same bytes.
/// </summary>
public static class DemoModelWriter
{
    // Raise when the generated weights change, so cached copies of the old ones are not reused.
    private const int FormatVersion = 3;

    public static void Write(DemoModelSpec spec, string directory)
    {
        Directory.CreateDirectory(directory);
        var config = spec.Config;
        var random = new GaussianStream(spec.Seed);
        var writer = new CheckpointWriter();
        int hidden = config.HiddenSize, query = config.NumAttentionHeads * config.HeadDim;
        int kv = config.NumKeyValueHeads * config.HeadDim, intermediate = config.IntermediateSize;
        var gains = spec.OutlierGainPerChannel();

        // Logits of a unit-RMS hidden state then spread with a standard deviation of about 3: peaked like a trained model's.
        float embeddingStd = 3f / MathF.Sqrt(hidden);
        var embedding = random.Next(config.VocabSize * hidden, embeddingStd * spec.EmbeddingGain);
        Add(writer, spec, "model.embed_tokens.weight", [config.VocabSize, hidden], embedding);

        // Residual branches shrink with depth so the stream stays bounded through every layer.
        float branchScale = 1f / MathF.Sqrt(2f * config.NumHiddenLayers);
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = DecoderLayerWeights.Prefix(layer);
            Add(writer, spec, $"{p}.input_layernorm.weight", [hidden], NormGains(random, gains));
            Add(writer, spec, $"{p}.self_attn.q_proj.weight", [query, hidden], InputWeights(random, query, gains));
            Add(writer, spec, $"{p}.self_attn.k_proj.weight", [kv, hidden], InputWeights(random, kv, gains));
            Add(writer, spec, $"{p}.self_attn.v_proj.weight", [kv, hidden], InputWeights(random, kv, gains));
            if (config.AttentionBias)
            {
                Add(writer, spec, $"{p}.self_attn.q_proj.bias", [query], random.Next(query, 0.1f));
                Add(writer, spec, $"{p}.self_attn.k_proj.bias", [kv], random.Next(kv, 0.1f));
                Add(writer, spec, $"{p}.self_attn.v_proj.bias", [kv], random.Next(kv, 0.1f));
            }

            Add(writer, spec, $"{p}.self_attn.o_proj.weight", [hidden, query], random.Next(hidden * query, branchScale / MathF.Sqrt(query)));
            Add(writer, spec, $"{p}.post_attention_layernorm.weight", [hidden], NormGains(random, gains));
            Add(writer, spec, $"{p}.mlp.gate_proj.weight", [intermediate, hidden], InputWeights(random, intermediate, gains));
            Add(writer, spec, $"{p}.mlp.up_proj.weight", [intermediate, hidden], InputWeights(random, intermediate, gains));
            Add(writer, spec, $"{p}.mlp.down_proj.weight", [hidden, intermediate], random.Next(hidden * intermediate, branchScale / MathF.Sqrt(intermediate)));
        }

        Add(writer, spec, "model.norm.weight", [hidden], NormGains(random, new float[hidden]));
        if (!config.TieWordEmbeddings)
        {
            var head = spec.SuccessorHead
                ? SuccessorHead(embedding, config.VocabSize, hidden, new Random(spec.Seed), spec.HeadScale / spec.EmbeddingGain)
                : random.Next(config.VocabSize * hidden, embeddingStd);
            Add(writer, spec, "lm_head.weight", [config.VocabSize, hidden], head);
        }

        writer.WriteTo(directory, spec.MaxShardBytes);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
        switch (spec.Vocabulary)
        {
            case DemoVocabulary.Gpt2:
                TokenizerFiles.WriteGpt2(directory);
                break;
            default:
                TokenizerFiles.WriteBytes(directory);
                break;
        }
    }

    /// <summary>
    /// The directory of <paramref name="spec"/> in the user's cache, written on first use. Later runs load it from
    /// disk instead of regenerating; a half-written copy is never seen because it is renamed into place whole, and
    /// writers racing in several processes (or threads) each stage their own copy.
    /// </summary>
    public static string EnsureCached(DemoModelSpec spec, string? cacheRoot = null)
    {
        cacheRoot ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "orleansquant", "models");
        string directory = Path.Combine(cacheRoot, $"{spec.Name}-s{spec.Seed}-v{FormatVersion}");
        if (File.Exists(Path.Combine(directory, "config.json")))
        {
            return directory;
        }

        string staging = $"{directory}.partial-{Guid.NewGuid():N}";
        Write(spec, staging);
        try
        {
            Directory.Move(staging, directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, "config.json")))
        {
            // Another process finished first; its copy is identical.
            Directory.Delete(staging, recursive: true);
        }

        return directory;
    }

    // Row v of the head is the embedding of a fixed random token σ(v): the current token votes for a successor of its
    // own, so text moves on instead of repeating one token, and the layers' context decides between close candidates.
    private static float[] SuccessorHead(float[] embedding, int vocab, int hidden, Random random, float scale)
    {
        var successor = Enumerable.Range(0, vocab).ToArray();
        random.Shuffle(successor);
        var head = new float[embedding.Length];
        for (int v = 0; v < vocab; v++)
        {
            var source = embedding.AsSpan(successor[v] * hidden, hidden);
            var target = head.AsSpan(v * hidden, hidden);
            for (int c = 0; c < hidden; c++)
            {
                target[c] = source[c] * scale;
            }
        }

        return head;
    }

    // Gains near 1, except the outlier channels, which carry their large gain into every linear that reads the norm.
    private static float[] NormGains(GaussianStream random, float[] outlierGains)
    {
        var gains = random.NextUniform(outlierGains.Length, 0.8f, 1.2f);
        for (int c = 0; c < gains.Length; c++)
        {
            if (outlierGains[c] > 0)
            {
                gains[c] *= outlierGains[c];
            }
        }

        return gains;
    }

    // Columns reading an outlier channel are damped by 1/√gain so that channel neither vanishes nor swamps the output.
    private static float[] InputWeights(GaussianStream random, int outputs, float[] outlierGains)
    {
        int inputs = outlierGains.Length;
        var weights = random.Next(outputs * inputs, 1f / MathF.Sqrt(inputs));
        for (int c = 0; c < inputs; c++)
        {
            if (outlierGains[c] > 0)
            {
                float damp = 1f / MathF.Sqrt(outlierGains[c]);
                for (int o = 0; o < outputs; o++)
                {
                    weights[o * inputs + c] *= damp;
                }
            }
        }

        return weights;
    }

    private static void Add(CheckpointWriter writer, DemoModelSpec spec, string name, long[] shape, float[] values) =>
        writer.AddFloat32(name, shape, values, spec.StoreAs);
}
