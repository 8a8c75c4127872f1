using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Loads calibration samples (token id sequences) for SmoothQuant statistics and GPTQ Hessians.
/// <para>
/// <c>.jsonl</c>: one object per line, <c>{"text": ...}</c> or <c>{"messages": [{"role", "content"}, ...]}</c>; each line
/// is one sample. Messages are rendered with the tokenizer's chat template (add_generation_prompt false), or, for
/// a model without one, as "role: content\n" lines. Lines are shuffled, then the first Samples non-empty ones are
/// kept, each cut to MaxTokens.
/// </para>
/// <para>Any other file is one plain-text corpus: paragraphs packed into samples of up to MaxTokens, then shuffled.</para>
/// <para>
/// The shuffle is Fisher–Yates driven by <c>new Random(Seed)</c>: the same file and seed always give the same
/// samples in the same order. Hugging Face datasets shuffles differently, so the selection is not the one
/// llm-compressor would make from the same data with the same seed.
/// </para>
/// </summary>
public static class CalibrationData
{
    public static IReadOnlyList<int[]> Load(string path, ModelTokenizer tokenizer, CalibrationOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!File.Exists(path))
        {
            throw new ModelFormatException(path, "file not found; expected a .jsonl file of {\"text\"} or {\"messages\"} objects, or a plain-text corpus");
        }

        bool jsonl = string.Equals(Path.GetExtension(path), ".jsonl", StringComparison.OrdinalIgnoreCase);
        var samples = jsonl ? LoadJsonl(path, tokenizer, options) : LoadText(path, tokenizer, options);
        if (samples.Count == 0)
        {
            throw new ModelFormatException(path, "holds no non-empty sample; expected at least one line with text or messages (JSONL) or one paragraph (plain text)");
        }

        if (samples.Count < options.Samples)
        {
            progress?.Report($"calibration: {path} has only {samples.Count} samples of the {options.Samples} asked for; using all of them");
        }

        progress?.Report($"calibration: {path}: {Describe(samples)}");
        return samples;
    }

    public static CalibrationSummary Describe(IReadOnlyList<int[]> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return new CalibrationSummary(0, 0, 0, 0);
        }

        return new CalibrationSummary(samples.Count, samples.Sum(s => (long)s.Length), samples.Min(s => s.Length), samples.Max(s => s.Length));
    }

    private static List<int[]> LoadJsonl(string path, ModelTokenizer tokenizer, CalibrationOptions options)
    {
        var records = CalibrationJsonl.Read(path);
        Shuffle(records, options.Seed);

        ChatTemplate? template = null;
        if (records.Any(r => r.Messages is not null) && tokenizer.ChatTemplate is string text)
        {
            template = ChatTemplate.Parse(text, $"{ModelTokenizer.TokenizerConfigFile} chat_template");
        }

        string? bos = tokenizer.BosId is int bosId ? tokenizer.DecodeToken(bosId) : null;
        string? eos = tokenizer.EosId is int eosId ? tokenizer.DecodeToken(eosId) : null;

        // Tokenizing is the slow part, so only as many lines as needed are tokenized, in shuffled order.
        var samples = new List<int[]>(Math.Min(options.Samples, records.Count));
        foreach (var record in records)
        {
            if (samples.Count == options.Samples)
            {
                break;
            }

            // An empty text would still encode to a lone BOS, which calibrates nothing.
            if (record.Text is "")
            {
                continue;
            }

            var ids = record.Text is not null ? tokenizer.Encode(record.Text) : EncodeChat(path, record, template, tokenizer, bos, eos);
            if (ids.Count > 0)
            {
                samples.Add(Truncate(ids, options.MaxTokens));
            }
        }

        return samples;
    }

    private static IReadOnlyList<int> EncodeChat(string path, CalibrationRecord record, ChatTemplate? template, ModelTokenizer tokenizer, string? bos, string? eos)
    {
        var messages = record.Messages!;
        if (messages.Count == 0)
        {
            return [];
        }

        if (template is null)
        {
            // No template (a base model): a neutral transcript, so chat data still calibrates something reasonable.
            return tokenizer.Encode(string.Concat(messages.Select(m => $"{m.Role}: {m.Content}\n")));
        }

        string rendered;
        try
        {
            rendered = template.Render(messages, addGenerationPrompt: false, bos, eos);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}:{record.Line}", $"messages cannot be rendered with the chat template: {e.Message}", e);
        }

        // Templates that write bos_token themselves (Llama, Mistral) must not get a second one from the tokenizer.
        bool hasBos = bos is not null && rendered.StartsWith(bos, StringComparison.Ordinal);
        return hasBos ? tokenizer.Encode(rendered, addBos: false) : tokenizer.Encode(rendered);
    }

    private static List<int[]> LoadText(string path, ModelTokenizer tokenizer, CalibrationOptions options)
    {
        var samples = CalibrationTextPacker.Pack(File.ReadAllText(path), tokenizer, options.MaxTokens);
        Shuffle(samples, options.Seed);
        return samples.Count > options.Samples ? samples.GetRange(0, options.Samples) : samples;
    }

    private static int[] Truncate(IReadOnlyList<int> ids, int maxTokens) => [.. ids.Take(maxTokens)];

    private static void Shuffle<T>(List<T> items, int seed)
    {
        var random = new Random(seed);
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
