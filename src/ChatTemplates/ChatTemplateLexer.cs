using System.Globalization;
using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>
/// Splits a chat template into text, <c>{{ }}</c> and <c>{% %}</c> segments (comments dropped) with the whitespace
/// rules Hugging Face transformers renders with: <c>trim_blocks</c> and <c>lstrip_blocks</c> on, plus the explicit
/// <c>-</c>/<c>+</c> markers. The rules matter because a stray newline or indent becomes extra tokens in the prompt.
/// </summary>
internal static class ChatTemplateLexer
{
    private static readonly string[] TwoCharOperators = ["==", "!=", "<=", ">=", "//", "**"];
    private const string OneCharOperators = "+-*/%~<>=()[]{}.,:|";

    public static List<ChatTemplateSegment> Lex(ChatTemplateSource source)
    {
        // Jinja drops one trailing newline of the template (keep_trailing_newline is off in transformers).
        string s = source.Text.EndsWith("\r\n", StringComparison.Ordinal) ? source.Text[..^2]
            : source.Text.EndsWith('\n') ? source.Text[..^1] : source.Text;
        var segments = new List<ChatTemplateSegment>();
        int pos = 0;
        bool stripLeading = false;
        while (pos <= s.Length)
        {
            int tag = FindTagStart(s, pos);
            int textEnd = tag < 0 ? s.Length : tag;
            string text = s[pos..textEnd];
            if (stripLeading)
            {
                text = text.TrimStart();
                stripLeading = false;
            }

            if (tag < 0)
            {
                AddText(segments, pos, text);
                break;
            }

            char kind = s[tag + 1];
            int p = tag + 2;
            char modifier = p < s.Length && (s[p] == '-' || s[p] == '+') ? s[p] : '\0';
            if (modifier != '\0')
            {
                p++;
            }

            if (modifier == '-')
            {
                text = text.TrimEnd();
            }
            else if (modifier != '+' && kind != '{')
            {
                text = LstripBlock(s, pos, text);
            }

            AddText(segments, pos, text);

            if (kind == '#')
            {
                int close = s.IndexOf("#}", p, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw source.Error(tag, "comment '{#' is never closed; expected '#}'");
                }

                stripLeading = close > p && s[close - 1] == '-';
                pos = close + 2;
                if (!stripLeading && !(close > p && s[close - 1] == '+'))
                {
                    pos = SkipOneNewline(s, pos);
                }

                continue;
            }

            var (tokens, end, closeModifier) = LexTag(source, tag, p, kind == '{' ? "}}" : "%}");
            segments.Add(new ChatTemplateSegment(kind == '{' ? ChatTemplateSegmentKind.Output : ChatTemplateSegmentKind.Statement, tag, "", tokens));
            pos = end;
            if (closeModifier == '-')
            {
                stripLeading = true;
            }
            else if (kind == '%' && closeModifier != '+')
            {
                pos = SkipOneNewline(s, pos);
            }
        }

        return segments;
    }

    private static void AddText(List<ChatTemplateSegment> segments, int offset, string text)
    {
        if (text.Length > 0)
        {
            segments.Add(new ChatTemplateSegment(ChatTemplateSegmentKind.Text, offset, text, []));
        }
    }

    private static int FindTagStart(string s, int from)
    {
        for (int i = s.IndexOf('{', from); i >= 0 && i + 1 < s.Length; i = s.IndexOf('{', i + 1))
        {
            char next = s[i + 1];
            if (next is '{' or '%' or '#')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>lstrip_blocks: spaces and tabs between the start of a line and a block tag are not output.</summary>
    private static string LstripBlock(string s, int textStart, string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        bool atLineStart = lineStart > 0 || textStart == 0 || s[textStart - 1] == '\n';
        if (!atLineStart)
        {
            return text;
        }

        for (int i = lineStart; i < text.Length; i++)
        {
            if (text[i] is not (' ' or '\t'))
            {
                return text;
            }
        }

        return text[..lineStart];
    }

    /// <summary>trim_blocks: the first newline after a block tag is not output.</summary>
    private static int SkipOneNewline(string s, int pos)
    {
        if (pos < s.Length && s[pos] == '\n')
        {
            return pos + 1;
        }

        return pos + 1 < s.Length && s[pos] == '\r' && s[pos + 1] == '\n' ? pos + 2 : pos;
    }

    private static (List<ChatTemplateToken> Tokens, int End, char Modifier) LexTag(ChatTemplateSource source, int tagStart, int p, string close)
    {
        string s = source.Text;
        var tokens = new List<ChatTemplateToken>();

        // Brackets are counted so that "}}" closing a dict literal inside a tag is not taken for the tag's end.
        int depth = 0;
        while (true)
        {
            while (p < s.Length && char.IsWhiteSpace(s[p]))
            {
                p++;
            }

            if (p >= s.Length)
            {
                throw source.Error(tagStart, $"tag '{s[tagStart..(tagStart + 2)]}' is never closed; expected '{close}'");
            }

            if (depth == 0)
            {
                if ((s[p] == '-' || s[p] == '+') && string.CompareOrdinal(s, p + 1, close, 0, 2) == 0)
                {
                    tokens.Add(new ChatTemplateToken(ChatTemplateTokenKind.End, close, p));
                    return (tokens, p + 3, s[p]);
                }

                if (string.CompareOrdinal(s, p, close, 0, 2) == 0)
                {
                    tokens.Add(new ChatTemplateToken(ChatTemplateTokenKind.End, close, p));
                    return (tokens, p + 2, '\0');
                }
            }

            char c = s[p];
            if (char.IsLetter(c) || c == '_')
            {
                int start = p;
                while (p < s.Length && (char.IsLetterOrDigit(s[p]) || s[p] == '_'))
                {
                    p++;
                }

                tokens.Add(new ChatTemplateToken(ChatTemplateTokenKind.Name, s[start..p], start));
            }
            else if (char.IsAsciiDigit(c))
            {
                tokens.Add(LexNumber(source, ref p));
            }
            else if (c is '\'' or '"')
            {
                tokens.Add(LexString(source, ref p));
            }
            else
            {
                string? op = TwoCharOperators.FirstOrDefault(o => string.CompareOrdinal(s, p, o, 0, 2) == 0);
                if (op is null && OneCharOperators.Contains(c))
                {
                    op = c.ToString();
                }

                if (op is null)
                {
                    throw source.Error(p, $"unexpected character '{c}' in a tag; expected a name, literal or operator");
                }

                depth += op is "(" or "[" or "{" ? 1 : op is ")" or "]" or "}" ? -1 : 0;
                tokens.Add(new ChatTemplateToken(ChatTemplateTokenKind.Operator, op, p));
                p += op.Length;
            }
        }
    }

    private static ChatTemplateToken LexNumber(ChatTemplateSource source, ref int p)
    {
        string s = source.Text;
        int start = p;
        while (p < s.Length && (char.IsAsciiDigit(s[p]) || s[p] == '_'))
        {
            p++;
        }

        bool isFloat = false;
        if (p + 1 < s.Length && s[p] == '.' && char.IsAsciiDigit(s[p + 1]))
        {
            isFloat = true;
            p++;
            while (p < s.Length && char.IsAsciiDigit(s[p]))
            {
                p++;
            }
        }

        string text = s[start..p].Replace("_", "", StringComparison.Ordinal);
        if (isFloat)
        {
            return new ChatTemplateToken(ChatTemplateTokenKind.Float, text, start, double.Parse(text, CultureInfo.InvariantCulture));
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? new ChatTemplateToken(ChatTemplateTokenKind.Integer, text, start, value)
            : throw source.Error(start, $"integer {text} is out of range; expected a 64-bit integer");
    }

    private static ChatTemplateToken LexString(ChatTemplateSource source, ref int p)
    {
        string s = source.Text;
        int start = p;
        char quote = s[p++];
        var sb = new StringBuilder();
        while (true)
        {
            if (p >= s.Length)
            {
                throw source.Error(start, $"string literal is never closed; expected {quote}");
            }

            char c = s[p++];
            if (c == quote)
            {
                break;
            }

            if (c != '\\' || p >= s.Length)
            {
                sb.Append(c);
                continue;
            }

            // Python string escapes; an unknown one keeps its backslash, as Python does.
            char e = s[p++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break;
                case 'x' when p + 2 <= s.Length && IsHex(s, p, 2):
                    sb.Append((char)Convert.ToInt32(s.Substring(p, 2), 16));
                    p += 2;
                    break;
                case 'u' when p + 4 <= s.Length && IsHex(s, p, 4):
                    sb.Append((char)Convert.ToInt32(s.Substring(p, 4), 16));
                    p += 4;
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }

        return new ChatTemplateToken(ChatTemplateTokenKind.String, s[start..p], start, sb.ToString());
    }

    private static bool IsHex(string s, int start, int count)
    {
        for (int i = start; i < start + count; i++)
        {
            if (!char.IsAsciiHexDigit(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
