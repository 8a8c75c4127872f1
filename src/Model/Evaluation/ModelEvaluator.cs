using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Evaluation;

/// <summary>
/// Perplexity (exp of the mean next-token negative log-likelihood) of one or two models over the same samples, and
/// for a pair, KL(first ‖ second) and top-1 agreement at every predicted position — the figures used to judge a
/// quantized model against its original.
/// </summary>
public static class ModelEvaluator
{
    public static IReadOnlyList<EvaluationResult> Evaluate(
        IReadOnlyList<int[]> samples, (string Name, CausalLanguageModel Model) reference, (string Name, CausalLanguageModel Model)? compared = null,
        IProgress<int>? progress = null)
    {
        int vocab = reference.Model.Config.VocabSize;
        if (compared is { } c && c.Model.Config.VocabSize != vocab)
        {
            throw new ArgumentException($"{reference.Name} has {vocab} tokens and {c.Name} {c.Model.Config.VocabSize}; models compared must share a vocabulary");
        }

        double nllA = 0, nllB = 0, kl = 0;
        long positions = 0, agree = 0;
        var logA = new double[vocab];
        var logB = new double[vocab];
        for (int s = 0; s < samples.Count; s++)
        {
            var tokens = samples[s];
            if (tokens.Length < 2)
            {
                continue;
            }

            float[] a = Logits(reference.Model, tokens);
            float[]? b = compared is { } cm ? Logits(cm.Model, tokens) : null;
            for (int t = 0; t < tokens.Length - 1; t++)
            {
                int next = tokens[t + 1];
                LogSoftmax(a.AsSpan(t * vocab, vocab), logA);
                nllA -= logA[next];
                if (b is not null)
                {
                    LogSoftmax(b.AsSpan(t * vocab, vocab), logB);
                    nllB -= logB[next];
                    double divergence = 0;
                    int argA = 0, argB = 0;
                    for (int v = 0; v < vocab; v++)
                    {
                        divergence += Math.Exp(logA[v]) * (logA[v] - logB[v]);
                        argA = logA[v] > logA[argA] ? v : argA;
                        argB = logB[v] > logB[argB] ? v : argB;
                    }

                    kl += divergence;
                    agree += argA == argB ? 1 : 0;
                }

                positions++;
            }

            progress?.Report(s + 1);
        }

        if (positions == 0)
        {
            throw new ArgumentException("evaluation needs samples of at least two tokens", nameof(samples));
        }

        var results = new List<EvaluationResult> { new(reference.Name, positions, Math.Exp(nllA / positions)) };
        if (compared is { } pair)
        {
            results.Add(new EvaluationResult(pair.Name, positions, Math.Exp(nllB / positions), kl / positions, (double)agree / positions));
        }

        return results;
    }

    private static float[] Logits(CausalLanguageModel model, int[] tokens)
    {
        const long sequence = long.MaxValue - 1;
        try
        {
            return model.Forward(tokens, ForwardBatch.Single(sequence, tokens.Length), allPositions: true);
        }
        finally
        {
            model.EndSequence(sequence);
        }
    }

    private static void LogSoftmax(ReadOnlySpan<float> logits, double[] result)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits)
        {
            max = Math.Max(max, l);
        }

        double sum = 0;
        for (int v = 0; v < logits.Length; v++)
        {
            sum += Math.Exp(logits[v] - max);
        }

        double log = max + Math.Log(sum);
        for (int v = 0; v < logits.Length; v++)
        {
            result[v] = logits[v] - log;
        }
    }
}
