using OrleansQuant.Model.Files;
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
    private const string Expected = "a .jsonl file of {\"text\"} or {\"messages\"} objects, or a plain-text corpus";

    public static IReadOnlyList<int[]> Load(string path, ModelTokenizer tokenizer, CalibrationOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        bool jsonl = string.Equals(Path.GetExtension(path), ".jsonl", StringComparison.OrdinalIgnoreCase);
        InputFile.CheckRegular(path, Expected);
        TextFileCheck.RequireText(path, jsonl ? "a UTF-8 .jsonl file of {\"text\"} or {\"messages\"} objects" : "a UTF-8 plain-text corpus");
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

        var chat = records.Any(r => r.Messages is not null) ? new ChatPromptEncoder(tokenizer) : null;

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

            var ids = record.Text is not null ? tokenizer.Encode(record.Text) : EncodeChat(path, record, chat!);
            if (ids.Count > 0)
            {
                samples.Add(Truncate(ids, options.MaxTokens));
            }
        }

        return samples;
    }

    private static IReadOnlyList<int> EncodeChat(string path, CalibrationRecord record, ChatPromptEncoder chat)
    {
        try
        {
            return chat.Encode(record.Messages!, addGenerationPrompt: false);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}:{record.Line}", $"messages cannot be rendered with the chat template: {e.Message}", e);
        }
    }

    private static List<int[]> LoadText(string path, ModelTokenizer tokenizer, CalibrationOptions options)
    {
        var samples = CalibrationTextPacker.Pack(InputFile.ReadAllText(path, InputLimits.CalibrationText, "a plain-text corpus (or .jsonl, which is streamed)"), tokenizer, options.MaxTokens);
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
