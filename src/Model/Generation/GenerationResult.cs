namespace OrleansQuant.Model.Generation;

/// <summary>A finished sequence: its prompt, the tokens generated after it (a final stop token included), and why it ended.</summary>
public sealed record GenerationResult(IReadOnlyList<int> PromptIds, IReadOnlyList<int> GeneratedIds, FinishReason FinishReason);
