namespace OrleansQuant.ChatTemplates;

/// <summary>The template text and the file it came from, so every error can say where: file, line and column.</summary>
internal sealed class ChatTemplateSource(string text, string source)
{
    public string Text { get; } = text;

    public string Source { get; } = source;

    public string Position(int offset)
    {
        int line = 1;
        int lineStart = 0;
        int end = Math.Min(offset, Text.Length);
        for (int i = 0; i < end; i++)
        {
            if (Text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return $"{line}:{end - lineStart + 1}";
    }

    public ChatTemplateException Error(int offset, string message) =>
        new(Source, $"chat_template at {Position(offset)}: {message}");
}
