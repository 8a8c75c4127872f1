using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

/// <summary>
/// The CPU kernel of <see cref="IComputeDevice.CholeskyInverseUpper"/>, GPTQ's inverse-Hessian factor (Frantar et al.
/// 2023, §4 "Cholesky reformulation"), in double and in place on a row-major <c>n × n</c> array: no second square is
/// allocated, which matters at down_proj's 14336 columns (1.6 GB each). Every step works on contiguous row prefixes or
/// suffixes so the inner loops vectorise, and each parallel item writes its own outputs from inputs fixed before the
/// loop, so results do not depend on the degree of parallelism.
/// </summary>
internal static class CpuCholesky
{
    /// <summary>
    /// A (symmetric positive definite) becomes U, upper triangular with A⁻¹ = Uᵀ·U, in one factorization: with J the
    /// order reversal and J·A·J = M·Mᵀ, A = R·Rᵀ for the upper R = J·M·J, so A⁻¹ = R⁻ᵀ·R⁻¹ and U = R⁻¹ = J·M⁻¹·J.
    /// Below the diagonal, M is left behind.
    /// </summary>
    /// <param name="pivots">scratch of at least n doubles (M's diagonal, kept while U overwrites it).</param>
    public static void InverseUpperInPlace(double[] a, int n, double[] pivots, ParallelOptions parallelism)
    {
        // J·A·J reverses both index orders, which for a row-major square is reversing the flat array.
        a.AsSpan(0, n * n).Reverse();
        LowerInPlace(a, n, parallelism);
        for (int i = 0; i < n; i++)
        {
            pivots[i] = a[i * n + i];
        }

        // Column j of M⁻¹ solves M·x = e_j by forward substitution, reading M strictly below the diagonal (and the
        // saved pivots); x[i] = M⁻¹[i, j] belongs at U[n−1−i, n−1−j], on or above the diagonal, which no column reads,
        // so columns run in parallel and write their results straight into place.
        Parallel.For(0, n, parallelism, () => new double[n], (j, _, x) =>
        {
            x[j] = 1 / pivots[j];
            a[(n - 1 - j) * n + (n - 1 - j)] = x[j];
            for (int i = j + 1; i < n; i++)
            {
                x[i] = -TensorPrimitives.Dot<double>(a.AsSpan(i * n + j, i - j), x.AsSpan(j, i - j)) / pivots[i];
                a[(n - 1 - i) * n + (n - 1 - j)] = x[i];
            }

            return x;
        }, _ => { });
    }

    /// <summary>
    /// Left-looking Cholesky A = L·Lᵀ in place on the lower triangle (diagonal included); throws when A is not positive
    /// definite, naming the pivot in the caller's (unreversed) order.
    /// </summary>
    private static void LowerInPlace(double[] l, int n, ParallelOptions parallelism)
    {
        int column = 0;
        double pivot = 0;

        // Rows below the pivot are independent: row i reads its own prefix and the pivot row's, and writes L[i, column].
        // One delegate for the whole factorization, reading the column from the captured locals.
        Action<int> row = i =>
            l[i * n + column] = (l[i * n + column] - TensorPrimitives.Dot<double>(l.AsSpan(i * n, column), l.AsSpan(column * n, column))) / pivot;
        for (int j = 0; j < n; j++)
        {
            double d = l[j * n + j] - TensorPrimitives.SumOfSquares<double>(l.AsSpan(j * n, j));
            if (!(d > 0))
            {
                throw new ArithmeticException($"matrix is not positive definite: pivot {n - 1 - j} is {d:g4}; more dampening or calibration data is needed");
            }

            pivot = Math.Sqrt(d);
            column = j;
            l[j * n + j] = pivot;

            // Fan out once there are enough rows to pay for it.
            if ((long)(n - j) * j > 1 << 16)
            {
                Parallel.For(j + 1, n, parallelism, row);
            }
            else
            {
                for (int i = j + 1; i < n; i++)
                {
                    row(i);
                }
            }
        }
    }
}
