namespace OrleansQuant.ChatTemplates;

internal enum ChatTemplateTokenKind
{
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One token inside a <c>{{ }}</c> or <c>{% %}</c> tag; <see cref="Offset"/> locates errors in the template.</summary>
internal readonly record struct ChatTemplateToken(ChatTemplateTokenKind Kind, string Text, int Offset, object? Value = null)
{
    public bool Is(string text) => Kind is ChatTemplateTokenKind.Operator or ChatTemplateTokenKind.Name && Text == text;
}
