namespace OrleansQuant.Model.Generation;

/// <summary>
/// A token at one position of a sequence (a prompt token or a generated one) with its log-probability given what came
/// before, and the most likely tokens there, most likely first (the lower id first on equal logits).
/// </summary>
public sealed record ScoredToken(int Id, float LogProb, IReadOnlyList<TokenLogProb> Top);
