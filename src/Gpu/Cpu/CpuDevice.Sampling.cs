using System.Buffers;

namespace OrleansQuant.Gpu.Cpu;

// Token sampling (IComputeDevice.SampleTokens): temperature → top-k → top-p (Holtzman et al. 2020) → inverse-CDF draw,
// over integer weights so that the CUDA device, which finds the same thresholds by bisection, picks the same tokens.
// This is the rule written out plainly: candidates sorted by (weight desc, id asc), cut, and walked.
public sealed partial class CpuDevice
{
    public void SampleTokens(DeviceTensor logits, ReadOnlySpan<SamplingRow> rows, DeviceTensor ids, DeviceTensor logProbs)
    {
        RequireSampling(logits, rows, ids, logProbs);
        int vocabulary = logits.Columns;
        var values = Own(logits).Array<float>();
        var chosen = Own(ids).Array<int>();
        var probabilities = Own(logProbs).Array<float>();
        var parameters = rows.ToArray();
        Parallel.For(0, parameters.Length, _parallel, r =>
        {
            var row = values.AsSpan(r * vocabulary, vocabulary);
            (chosen[r], probabilities[r]) = Sample(row, parameters[r]);
        });
    }

    private static (int Id, float LogProb) Sample(ReadOnlySpan<float> logits, SamplingRow parameters)
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

        int greedy = Math.Max(0, logits.IndexOf(max));
        double sum = 0.0;
        foreach (float x in logits)
        {
            sum += Math.Exp((double)x - max);
        }

        double logSum = Math.Log(sum);
        int id = parameters.IsGreedy ? greedy : Draw(logits, max, parameters) ?? greedy;
        return (id, (float)((double)logits[id] - max - logSum));
    }

    /// <summary>The sampled id, or null when no token has weight.</summary>
    private static int? Draw(ReadOnlySpan<float> logits, float max, SamplingRow parameters)
    {
        int vocabulary = logits.Length;
        ulong[] order = ArrayPool<ulong>.Shared.Rent(vocabulary);
        try
        {
            // Candidates in the rule's order, weight descending then id ascending, by one primitive sort of
            // (¬weight, id) keys.
            var keys = order.AsSpan(0, vocabulary);
            ulong total = 0;
            for (int i = 0; i < vocabulary; i++)
            {
                uint weight = SamplingWeight(logits[i], max, parameters.Temperature);
                keys[i] = ((ulong)(uint.MaxValue - weight) << 32) | (uint)i;
                total += weight;
            }

            if (total == 0)
            {
                return null;
            }

            keys.Sort();
            int length = parameters.TopK > 0 ? Math.Min(parameters.TopK, vocabulary) : vocabulary;
            ulong kept = 0;
            for (int i = 0; i < length; i++)
            {
                kept += Weight(keys[i]);
            }

            if (parameters.TopP < 1f)
            {
                double mass = (double)parameters.TopP * kept;
                ulong cumulative = 0;
                int nucleus = 0;
                while ((double)cumulative < mass)
                {
                    cumulative += Weight(keys[nucleus++]);
                }

                (length, kept) = (nucleus, cumulative);
            }

            ulong target = Math.Min((ulong)Math.Floor(parameters.Draw * kept), kept - 1);
            ulong walked = 0;
            for (int i = 0; i < length; i++)
            {
                if ((walked += Weight(keys[i])) > target)
                {
                    return (int)(uint)keys[i];
                }
            }

            throw new InvalidOperationException($"{nameof(SampleTokens)}: the walk did not reach its target");
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(order);
        }

        static uint Weight(ulong key) => uint.MaxValue - (uint)(key >> 32);
    }

    // 2^f on [−½, ½]: Taylor coefficients (ln 2)^k / k!, the same literals as sampling.cu.
    private const float Log2E = 1.44269504f;
    private const float Exp2C1 = 0.693147182f;
    private const float Exp2C2 = 0.240226507f;
    private const float Exp2C3 = 0.0555041087f;
    private const float Exp2C4 = 0.00961812911f;
    private const float Exp2C5 = 0.00133335581f;
    private const float Exp2C6 = 0.000154035304f;

    /// <summary>
    /// ⌊2³¹ · exp((x − max) / temperature)⌋, the exponential in float steps that are each exactly rounded (no library
    /// exp, whose last bit differs between a CPU's C library and CUDA's), so every device gets the same integer.
    /// </summary>
    internal static uint SamplingWeight(float x, float max, float temperature)
    {
        float z = (x - max) / temperature;
        float t = z * Log2E;
        if (!(t >= -32f))
        {
            return 0;
        }

        float n = MathF.Round(t, MidpointRounding.ToEven);
        float f = t - n;
        float p = MathF.FusedMultiplyAdd(Exp2C6, f, Exp2C5);
        p = MathF.FusedMultiplyAdd(p, f, Exp2C4);
        p = MathF.FusedMultiplyAdd(p, f, Exp2C3);
        p = MathF.FusedMultiplyAdd(p, f, Exp2C2);
        p = MathF.FusedMultiplyAdd(p, f, Exp2C1);
        p = MathF.FusedMultiplyAdd(p, f, 1f);
        // 2ⁿ for n in [−32, 0] built from its bits: an exact scaling, as is the 2³¹ after it.
        float scale = BitConverter.Int32BitsToSingle((127 + (int)n) << 23);
        return (uint)(p * scale * 2147483648f);
    }
}
