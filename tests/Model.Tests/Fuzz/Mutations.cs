using System.Text;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>
/// Ways a valid file goes bad — truncated, bytes flipped, junk spliced in, a value swapped for a huge number, a wrong
/// type or deep nesting — chosen by a kind and a seed, so CsCheck's shrinking reports a small reproducible pair.
/// </summary>
internal static class Mutations
{
    public const int Kinds = 8;

    // JSON values that break a reader's assumptions: out-of-range numbers, wrong types, nesting past any parser's depth.
    private static readonly string[] s_values =
    [
        "-1", "0", "1e308", "-1e308", "99999999999999999999999", "2147483648", "-2147483649", "9223372036854775808",
        "1.5", "\"x\"", "\"\"", "[]", "{}", "null", "true", "[-1]", "[0,0]", "[1,2,3,4,5,6,7,8,9]", "{\"a\":{}}",
        new string('[', 200) + new string(']', 200), "\"\\u0000\"", "\"\\ud800\"",
    ];

    // Text that means something to YAML or JSON.
    private static readonly string[] s_junk =
    [
        "{", "}", "[", "]", ":", ",", "\"", "'", "- ", "&a ", "*a", "!!binary ", "\t", "\n", "\0", "#", "? ", "|", ">", "%YAML 1.2\n---\n", "\uFEFF", "\xFF",
    ];

    public static byte[] Apply(byte[] valid, int kind, int seed)
    {
        var random = new Random(seed);
        return (kind % Kinds) switch
        {
            0 => valid[..random.Next(valid.Length + 1)],
            1 => Flip(valid, random),
            2 => Splice(valid, random, Encoding.UTF8.GetBytes(s_junk[random.Next(s_junk.Length)])),
            3 => ReplaceJsonValue(valid, random),
            4 => ReplaceJsonValue(ReplaceJsonValue(valid, random), random),
            5 => Splice(valid, random, RandomBytes(random, random.Next(1, 64))),
            6 => RandomBytes(random, random.Next(0, 256)),
            _ => Splice(valid, random, valid[random.Next(valid.Length + 1)..]),
        };
    }

    public static string Apply(string valid, int kind, int seed) =>
        Encoding.UTF8.GetString(Apply(Encoding.UTF8.GetBytes(valid), kind, seed));

    private static byte[] Flip(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        for (int i = random.Next(1, 4); i > 0 && bytes.Length > 0; i--)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        }

        return bytes;
    }

    private static byte[] Splice(byte[] valid, Random random, byte[] junk)
    {
        int at = random.Next(valid.Length + 1);
        return [.. valid[..at], .. junk, .. valid[at..]];
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    // The value after a random ':' (up to the next ',' '}' or ']' at the same spot) becomes one of s_values.
    private static byte[] ReplaceJsonValue(byte[] valid, Random random)
    {
        var colons = new List<int>();
        for (int i = 0; i < valid.Length; i++)
        {
            if (valid[i] == (byte)':')
            {
                colons.Add(i);
            }
        }

        if (colons.Count == 0)
        {
            return Splice(valid, random, Encoding.UTF8.GetBytes(s_values[random.Next(s_values.Length)]));
        }

        int start = colons[random.Next(colons.Count)] + 1;
        int end = start;
        int depth = 0;
        while (end < valid.Length)
        {
            byte b = valid[end];
            if (b is (byte)'[' or (byte)'{')
            {
                depth++;
            }
            else if (b is (byte)']' or (byte)'}')
            {
                if (depth == 0)
                {
                    break;
                }

                depth--;
            }
            else if ((b == (byte)',' || b == (byte)'\n') && depth == 0)
            {
                break;
            }

            end++;
        }

        byte[] value = Encoding.UTF8.GetBytes(" " + s_values[random.Next(s_values.Length)]);
        return [.. valid[..start], .. value, .. valid[end..]];
    }
}
