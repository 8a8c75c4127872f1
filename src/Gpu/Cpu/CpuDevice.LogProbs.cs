namespace OrleansQuant.Gpu.Cpu;

// Log-probabilities of given tokens and of each row's most likely ones (IComputeDevice.TokenLogProbs), for log-likelihood
// scoring and an API's logprobs: the softmax's log written out as the sampler computes it (max-subtracted, summed in
// double), and the top K kept by insertion into a sorted K-slot list as the row is read once.
public sealed partial class CpuDevice
{
    public void TokenLogProbs(DeviceTensor logits, DeviceTensor targets, DeviceTensor targetLogProbs, DeviceTensor topIds, DeviceTensor topLogProbs)
    {
        RequireTokenLogProbs(logits, targets, targetLogProbs, topIds, topLogProbs);
        int vocabulary = logits.Columns, top = topIds.Columns;
        var values = Own(logits).Array<float>();
        var wanted = Own(targets).Array<int>();
        var scores = Own(targetLogProbs).Array<float>();
        var ids = Own(topIds).Array<int>();
        var best = Own(topLogProbs).Array<float>();
        for (int r = 0; r < logits.Rows; r++)
        {
            if ((uint)wanted[r] >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), wanted[r], $"{nameof(TokenLogProbs)}: row {r}'s target is token id {wanted[r]}; expected an id in [0, {vocabulary})");
            }
        }

        Parallel.For(0, logits.Rows, _parallel, r =>
            scores[r] = ScoreRow(values.AsSpan(r * vocabulary, vocabulary), wanted[r], ids.AsSpan(r * top, top), best.AsSpan(r * top, top)));
    }

    /// <returns>the target's log-probability; <paramref name="ids"/> and <paramref name="top"/> get the row's most likely tokens.</returns>
    private static float ScoreRow(ReadOnlySpan<float> logits, int target, Span<int> ids, Span<float> top)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits)
        {
            // Skips NaN, as CUDA's fmaxf does.
            if (x > max)
            {
                max = x;
            }
        }

        double sum = 0.0;
        foreach (float x in logits)
        {
            // A NaN logit is no token: not in the sum, never picked.
            if (!float.IsNaN(x))
            {
                sum += Math.Exp((double)x - max);
            }
        }

        double logSum = Math.Log(sum);

        // The K best logits so far, sorted by (logit descending, id ascending); ids are read in rising order, so a later
        // token of an equal logit never displaces an earlier one.
        int k = ids.Length, filled = 0;
        ids.Fill(-1);
        top.Fill(float.NegativeInfinity);
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i];
            if (float.IsNaN(x) || (filled == k && !(x > top[k - 1])))
            {
                continue;
            }

            int at = Math.Min(filled, k - 1);
            while (at > 0 && x > top[at - 1])
            {
                top[at] = top[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }

            top[at] = x;
            ids[at] = i;
            filled = Math.Min(filled + 1, k);
        }

        for (int j = 0; j < filled; j++)
        {
            top[j] = LogProb(top[j]);
        }

        return LogProb(logits[target]);

        // One expression for the target and the top, so the same token gets the same float in both.
        float LogProb(float x) => (float)((double)x - max - logSum);
    }
}
