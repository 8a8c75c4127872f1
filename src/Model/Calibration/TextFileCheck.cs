using System.Buffers;
using System.Text.Unicode;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Refuses a calibration file that is not text — a checkpoint, an archive, a tokenizer.model passed by mistake — by its
/// first block: a NUL byte or bytes that are not UTF-8. Decoded anyway, such a file would calibrate on replacement
/// characters and give a model quantized for noise, with no error.
/// </summary>
public static class TextFileCheck
{
    /// <summary>How much of the file is looked at: enough for any real text to show it is text.</summary>
    public const int BlockBytes = 8192;

    /// <exception cref="ModelFormatException">naming the file and the byte offset where it stops being text.</exception>
    public static void RequireText(string path, string expected)
    {
        byte[] block = ArrayPool<byte>.Shared.Rent(BlockBytes);
        char[] chars = ArrayPool<char>.Shared.Rent(BlockBytes);
        try
        {
            int length;
            bool wholeFile;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                length = stream.ReadAtLeast(block.AsSpan(0, BlockBytes), BlockBytes, throwOnEndOfStream: false);
                wholeFile = length < BlockBytes || stream.Position == stream.Length;
            }

            ReadOnlySpan<byte> bytes = block.AsSpan(0, length);
            int nul = bytes.IndexOf((byte)0);
            if (nul >= 0)
            {
                throw new ModelFormatException(path, $"byte {nul} is NUL, so this is a binary file; expected {expected}");
            }

            // Not the final block unless it is the whole file: a character cut at the block's end is not an error.
            var status = Utf8.ToUtf16(bytes, chars.AsSpan(0, BlockBytes), out int read, out _, replaceInvalidSequences: false, isFinalBlock: wholeFile);
            if (status == OperationStatus.InvalidData)
            {
                throw new ModelFormatException(path, $"byte {read} is not valid UTF-8, so this is not a text file; expected {expected}");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot be read ({ex.Message}); expected {expected}", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
