using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Turns a plain-text corpus into samples: paragraphs (split on blank lines) are tokenized and packed in order into
/// samples of at most MaxTokens, joined by the tokens of "\n\n", so short paragraphs do not waste whole samples.
/// Each sample starts with BOS when the tokenizer adds one, as a document would. A paragraph that does not fit an
/// empty sample is cut into pieces; the last piece keeps packing with what follows.
/// </summary>
internal static class CalibrationTextPacker
{
    public static List<int[]> Pack(string text, ModelTokenizer tokenizer, int maxTokens)
    {
        int[] prefix = tokenizer.AddBos && tokenizer.BosId is int bos ? [bos] : [];
        int[] separator = [.. tokenizer.Encode("\n\n", addBos: false)];

        // A tokenizer that appends EOS ends every paragraph with it already; the joint itself needs none.
        if (tokenizer.AddEos && separator.Length > 0 && separator[^1] == tokenizer.EosId)
        {
            separator = separator[..^1];
        }

        int capacity = maxTokens - prefix.Length;
        var samples = new List<int[]>();
        var current = new List<int>();

        void Flush()
        {
            if (current.Count > 0)
            {
                samples.Add([.. prefix, .. current]);
                current.Clear();
            }
        }

        // With a 1-token budget and a BOS there is no room for text; the BOS alone would be no sample.
        if (capacity < 1)
        {
            prefix = [];
            capacity = maxTokens;
        }

        foreach (string paragraph in Paragraphs(text))
        {
            var ids = tokenizer.Encode(paragraph, addBos: false);
            if (ids.Count == 0)
            {
                continue;
            }

            int needed = current.Count == 0 ? ids.Count : separator.Length + ids.Count;
            if (current.Count > 0 && current.Count + needed > capacity)
            {
                Flush();
            }

            if (current.Count > 0)
            {
                current.AddRange(separator);
            }

            foreach (int id in ids)
            {
                if (current.Count == capacity)
                {
                    Flush();
                }

                current.Add(id);
            }
        }

        Flush();
        return samples;
    }

    /// <summary>Runs of non-blank lines; a line of only whitespace separates paragraphs.</summary>
    public static IEnumerable<string> Paragraphs(string text)
    {
        var lines = new List<string>();
        foreach (string raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(raw))
            {
                if (lines.Count > 0)
                {
                    yield return string.Join('\n', lines);
                    lines.Clear();
                }

                continue;
            }

            lines.Add(raw);
        }

        if (lines.Count > 0)
        {
            yield return string.Join('\n', lines);
        }
    }
}
