namespace OrleansQuant.ChatTemplates;

internal enum ChatTemplateSegmentKind
{
    Text,
    Output,
    Statement,
}

/// <summary>
/// A run of literal text, a <c>{{ expression }}</c> or a <c>{% statement %}</c>, after whitespace control has
/// been applied to the text around it. Tags carry their tokens, ending with an End token at the closing delimiter.
/// </summary>
internal sealed record ChatTemplateSegment(ChatTemplateSegmentKind Kind, int Offset, string Text, IReadOnlyList<ChatTemplateToken> Tokens);
