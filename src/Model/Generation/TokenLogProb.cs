namespace OrleansQuant.Model.Generation;

/// <summary>A token and its log-probability under the model's unscaled softmax at one position.</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);
