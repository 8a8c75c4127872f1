using System.Numerics.Tensors;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The dense symmetric-positive-definite algebra GPTQ needs, in double precision on row-major <c>n × n</c> arrays.
/// Every step works on contiguous row prefixes or suffixes so the inner loops vectorise. Each parallel item writes
/// its own outputs from inputs fixed before the loop, so results do not depend on the degree of parallelism.
/// </summary>
internal static class CholeskyMath
{
    /// <summary>Lower-triangular L with A = L·Lᵀ; throws when A is not positive definite.</summary>
    /// <param name="parallelism">the threads the caller was given; all cores when omitted.</param>
    public static double[] Lower(ReadOnlySpan<double> a, int n, ParallelOptions? parallelism = null)
    {
        parallelism ??= new ParallelOptions();
        var l = new double[n * n];
        var source = a.ToArray();
        for (int j = 0; j < n; j++)
        {
            double d = source[j * n + j] - TensorPrimitives.SumOfSquares<double>(l.AsSpan(j * n, j));
            if (!(d > 0))
            {
                throw new ArithmeticException($"matrix is not positive definite: pivot {j} is {d:g4}; more dampening or calibration data is needed");
            }

            double pivot = Math.Sqrt(d);
            l[j * n + j] = pivot;
            int column = j;
            void Row(int i) =>
                l[i * n + column] = (source[i * n + column] - TensorPrimitives.Dot<double>(l.AsSpan(i * n, column), l.AsSpan(column * n, column))) / pivot;

            // Rows below the pivot are independent; fan out once there is enough of them to pay for it.
            if ((long)(n - j) * j > 1 << 16)
            {
                Parallel.For(j + 1, n, parallelism, Row);
            }
            else
            {
                for (int i = j + 1; i < n; i++)
                {
                    Row(i);
                }
            }
        }

        return l;
    }

    /// <summary>
    /// U upper-triangular with A⁻¹ = Uᵀ·U: what torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(A)),
    /// upper=True) gives, in one factorization: with J the order reversal and J·A·J = M·Mᵀ, A = R·Rᵀ for the upper
    /// R = J·M·J, so A⁻¹ = R⁻ᵀ·R⁻¹ and U = R⁻¹ = J·M⁻¹·J.
    /// </summary>
    public static double[] UpperOfInverse(ReadOnlySpan<double> a, int n, ParallelOptions? parallelism = null)
    {
        parallelism ??= new ParallelOptions();
        var reversed = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                reversed[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
            }
        }

        var m = Lower(reversed, n, parallelism);

        // Column j of M⁻¹ solves M·x = e_j by forward substitution; columns are independent, so they run in parallel.
        var u = new double[n * n];
        Parallel.For(0, n, parallelism, () => new double[n], (j, _, x) =>
        {
            x[j] = 1 / m[j * n + j];
            u[(n - 1 - j) * n + (n - 1 - j)] = x[j];
            for (int i = j + 1; i < n; i++)
            {
                x[i] = -TensorPrimitives.Dot<double>(m.AsSpan(i * n + j, i - j), x.AsSpan(j, i - j)) / m[i * n + i];
                u[(n - 1 - i) * n + (n - 1 - j)] = x[i];
            }

            return x;
        }, _ => { });
        return u;
    }
}
