using System.Text;

namespace OrleansQuant.Model.Files;

/// <summary>
/// Opens untrusted input files — configs, tokenizers, recipes, shards, calibration data — only when they are regular
/// files, and reads one whole only under a size cap, so a FIFO cannot hang a loader, a directory is not reported as
/// missing, and a huge file cannot run the process out of memory. Errors are <see cref="ModelFormatException"/>s
/// naming the path and what was expected.
/// </summary>
public static class InputFile
{
    /// <summary>Throws unless <paramref name="path"/> is a regular file (links followed).</summary>
    /// <param name="expected">what the file should be, for the message: "a Hugging Face config.json".</param>
    public static void CheckRegular(string path, string expected)
    {
        FileKind kind = FileKinds.Of(path);
        if (kind == FileKind.Missing)
        {
            throw new ModelFormatException(path, $"file does not exist; expected {expected}");
        }

        if (kind != FileKind.Regular)
        {
            throw new ModelFormatException(path, $"is {FileKinds.Describe(kind)}; expected {expected} as a regular file");
        }
    }

    /// <summary>The whole file, after <see cref="CheckRegular"/> and a check that it holds at most <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string expected)
    {
        CheckRegular(path, expected);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.Length;
            if (length > maxBytes)
            {
                throw new ModelFormatException(path, $"is {length} bytes, over the {maxBytes}-byte limit for {expected}");
            }

            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot be read ({ex.Message}); expected {expected}", ex);
        }
    }

    /// <summary>The whole file as UTF-8 text (a leading byte-order mark dropped), under the same checks as <see cref="ReadAllBytes"/>.</summary>
    public static string ReadAllText(string path, long maxBytes, string expected)
    {
        byte[] bytes = ReadAllBytes(path, maxBytes, expected);
        ReadOnlySpan<byte> text = bytes.AsSpan();
        if (text.StartsWith(Encoding.UTF8.Preamble))
        {
            text = text[Encoding.UTF8.Preamble.Length..];
        }

        return Encoding.UTF8.GetString(text);
    }
}
