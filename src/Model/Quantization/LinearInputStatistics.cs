using System.Numerics.Tensors;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// What calibration learns about one linear input: per-channel max |x| (for SmoothQuant) and Σ xxᵀ (for GPTQ's
/// Hessian), accumulated in double over every token that passes. Linears that read the same input share one.
/// </summary>
public sealed class LinearInputStatistics
{
    private readonly double[] _sumOfOuterProducts;

    public LinearInputStatistics(int channels)
    {
        Channels = channels;
        AbsMax = new double[channels];
        _sumOfOuterProducts = new double[channels * channels];
    }

    public int Channels { get; }

    public double[] AbsMax { get; }

    public long Tokens { get; private set; }

    /// <summary>Adds the rows of <paramref name="activations"/> <c>[tokens, Channels]</c>.</summary>
    /// <param name="parallelism">
    /// the threads the caller's device was given; all cores when omitted. Each thread owns whole rows of Σ xxᵀ,
    /// so the sums do not depend on it.
    /// </param>
    public void Accumulate(ReadOnlySpan<float> activations, int tokens, ParallelOptions? parallelism = null)
    {
        parallelism ??= new ParallelOptions();
        int n = Channels;
        if (activations.Length != tokens * n)
        {
            throw new ArgumentException($"{activations.Length} values are not {tokens} rows of {n} channels", nameof(activations));
        }

        var rows = new double[tokens * n];
        for (int k = 0; k < rows.Length; k++)
        {
            rows[k] = activations[k];
            int c = k % n;
            AbsMax[c] = Math.Max(AbsMax[c], Math.Abs(rows[k]));
        }

        // Upper triangle only, row i of Σ xxᵀ gets x_i · x[i..] per token; mirrored when read.
        var sums = _sumOfOuterProducts;
        Parallel.For(0, n, parallelism, i =>
        {
            var target = sums.AsSpan(i * n + i, n - i);
            for (int t = 0; t < tokens; t++)
            {
                double xi = rows[t * n + i];
                if (xi != 0)
                {
                    TensorPrimitives.MultiplyAdd<double>(rows.AsSpan(t * n + i, n - i), xi, target, target);
                }
            }
        });
        Tokens += tokens;
    }

    /// <summary>H = 2/n·XᵀX, the Hessian of the layer-wise squared error (GPTQ §3), as a full symmetric matrix.</summary>
    public double[] Hessian()
    {
        int n = Channels;
        var h = new double[n * n];
        double factor = Tokens == 0 ? 0 : 2.0 / Tokens;
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                double v = _sumOfOuterProducts[i * n + j] * factor;
                h[i * n + j] = v;
                h[j * n + i] = v;
            }
        }

        return h;
    }
}
