using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Engine;

/// <summary>
/// The head's part of a step, wherever the head runs (a local model, the cluster's coordinator): sample one token from
/// each sampled row and score what <see cref="StepScoring"/> asks, all on the head's device; only ids and
/// log-probabilities come back.
/// </summary>
public static class HeadStep
{
    /// <param name="rows">the sampled rows of <paramref name="hidden"/>.</param>
    /// <param name="scoring">rows to score besides, as rows of <paramref name="hidden"/>; null: none.</param>
    public static StepSamples Run(OutputHead head, DeviceTensor hidden, int[] rows, SamplingRow[] sampling, StepScoring? scoring, IReadOnlyList<int> layerVersions)
    {
        var ids = new int[rows.Length];
        var logProbs = new float[rows.Length];
        var sampled = scoring is { AtSampledRows: true } ? new TokenScores(rows.Length, scoring.Top) : null;
        head.Sample(hidden, rows, sampling, ids, logProbs, sampled);
        TokenScores? scored = null;
        if (scoring is { Rows.Length: > 0 })
        {
            scored = new TokenScores(scoring.Rows.Length, scoring.Top);
            head.Score(hidden, scoring.Rows, scoring.Targets, scored);
        }

        return new StepSamples(ids, logProbs, layerVersions, sampled, scored);
    }
}
