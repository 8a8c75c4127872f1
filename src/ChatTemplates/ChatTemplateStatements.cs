namespace OrleansQuant.ChatTemplates;

/// <summary>The statement tree of a chat template: literal text, outputs and the control tags transformers' templates use.</summary>
internal abstract record ChatTemplateNode(int Offset);

internal sealed record TextNode(int Offset, string Text) : ChatTemplateNode(Offset);

internal sealed record OutputNode(int Offset, ChatTemplateExpr Value) : ChatTemplateNode(Offset);

internal sealed record IfNode(int Offset, IReadOnlyList<(ChatTemplateExpr Condition, IReadOnlyList<ChatTemplateNode> Body)> Branches, IReadOnlyList<ChatTemplateNode>? Else) : ChatTemplateNode(Offset);

internal sealed record ForNode(int Offset, IReadOnlyList<string> Targets, ChatTemplateExpr Iterable, ChatTemplateExpr? Filter, IReadOnlyList<ChatTemplateNode> Body, IReadOnlyList<ChatTemplateNode>? Else) : ChatTemplateNode(Offset);

/// <summary><c>{% set name = value %}</c>, or <c>{% set ns.attribute = value %}</c> when <see cref="Attribute"/> is set.</summary>
internal sealed record SetNode(int Offset, string Name, string? Attribute, ChatTemplateExpr Value) : ChatTemplateNode(Offset);

/// <summary><c>{% set name %}…{% endset %}</c>: the rendered body becomes the value.</summary>
internal sealed record SetBlockNode(int Offset, string Name, IReadOnlyList<ChatTemplateNode> Body) : ChatTemplateNode(Offset);

/// <summary>A body rendered in place: transformers' <c>{% generation %}</c> only marks assistant tokens for training masks.</summary>
internal sealed record BlockNode(int Offset, IReadOnlyList<ChatTemplateNode> Body) : ChatTemplateNode(Offset);

internal sealed record LoopControlNode(int Offset, bool IsBreak) : ChatTemplateNode(Offset);
