namespace OrleansQuant.Contracts;

/// <summary>One message of a conversation ("system", "user", "assistant").</summary>
[GenerateSerializer, Immutable]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content);
