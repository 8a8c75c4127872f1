using System.Text;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-unicode table (openai/gpt-2 encoder.py, bytes_to_unicode).
/// Byte-level BPE vocabularies store every byte as a printable character so that tokens survive
/// JSON and whitespace splitting; the same table is used by Llama 3, Qwen2 and GPT-2 tokenizer.json files.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte(ByteToChar);

    public static char ToChar(byte b) => ByteToChar[b];

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    public static string EncodeUtf8(string text) => Encode(Encoding.UTF8.GetBytes(text));

    /// <summary>Maps a vocabulary entry back to its bytes; false when it holds a character outside the table.</summary>
    public static bool TryDecode(string token, out byte[] bytes)
    {
        bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var isPrintable = new bool[256];
        for (int b = '!'; b <= '~'; b++) isPrintable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) isPrintable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) isPrintable[b] = true;

        // Printable bytes keep their Latin-1 character; the rest are shifted past U+00FF in byte order.
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            table[b] = isPrintable[b] ? (char)b : (char)next++;
        }

        return table;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (byte)b;
        }

        return map;
    }
}
