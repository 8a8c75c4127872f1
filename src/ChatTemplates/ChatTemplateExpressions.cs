namespace OrleansQuant.ChatTemplates;

/// <summary>The expression tree of a chat template; <see cref="Offset"/> points into the template for error messages.</summary>
internal abstract record ChatTemplateExpr(int Offset);

internal sealed record LiteralExpr(int Offset, object? Value) : ChatTemplateExpr(Offset);

internal sealed record ListExpr(int Offset, IReadOnlyList<ChatTemplateExpr> Items) : ChatTemplateExpr(Offset);

internal sealed record DictExpr(int Offset, IReadOnlyList<(ChatTemplateExpr Key, ChatTemplateExpr Value)> Entries) : ChatTemplateExpr(Offset);

internal sealed record NameExpr(int Offset, string Name) : ChatTemplateExpr(Offset);

internal sealed record AttributeExpr(int Offset, ChatTemplateExpr Target, string Name) : ChatTemplateExpr(Offset);

internal sealed record IndexExpr(int Offset, ChatTemplateExpr Target, ChatTemplateExpr Index) : ChatTemplateExpr(Offset);

internal sealed record SliceExpr(int Offset, ChatTemplateExpr Target, ChatTemplateExpr? Start, ChatTemplateExpr? Stop, ChatTemplateExpr? Step) : ChatTemplateExpr(Offset);

internal sealed record ChatTemplateArguments(IReadOnlyList<ChatTemplateExpr> Positional, IReadOnlyList<(string Name, ChatTemplateExpr Value)> Named)
{
    public static ChatTemplateArguments None { get; } = new([], []);
}

internal sealed record CallExpr(int Offset, ChatTemplateExpr Callee, ChatTemplateArguments Arguments) : ChatTemplateExpr(Offset);

internal sealed record FilterExpr(int Offset, ChatTemplateExpr Value, string Name, ChatTemplateArguments Arguments) : ChatTemplateExpr(Offset);

internal sealed record TestExpr(int Offset, ChatTemplateExpr Value, string Name, bool Negated, ChatTemplateArguments Arguments) : ChatTemplateExpr(Offset);

/// <summary><c>not</c>, unary <c>-</c> and <c>+</c>.</summary>
internal sealed record UnaryExpr(int Offset, string Operator, ChatTemplateExpr Operand) : ChatTemplateExpr(Offset);

/// <summary>Arithmetic, <c>~</c>, <c>and</c> and <c>or</c> (the last two short-circuit and return an operand, as in Python).</summary>
internal sealed record BinaryExpr(int Offset, string Operator, ChatTemplateExpr Left, ChatTemplateExpr Right) : ChatTemplateExpr(Offset);

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c>, with <c>in</c> and <c>not in</c> among the operators, as in Python.</summary>
internal sealed record CompareExpr(int Offset, ChatTemplateExpr First, IReadOnlyList<(string Operator, ChatTemplateExpr Operand)> Rest) : ChatTemplateExpr(Offset);

internal sealed record ConditionalExpr(int Offset, ChatTemplateExpr Condition, ChatTemplateExpr Then, ChatTemplateExpr? Else) : ChatTemplateExpr(Offset);
