namespace OrleansQuant.Model.Evaluation;

/// <summary>
/// Next-token quality of a model on evaluation samples and, when a reference model is given, how far it drifts from
/// it: mean KL(reference ‖ model) per token and how often both pick the same top-1 token.
/// </summary>
public sealed record EvaluationResult(
    string Model,
    long Tokens,
    double Perplexity,
    double? MeanKlDivergence = null,
    double? Top1Agreement = null);
