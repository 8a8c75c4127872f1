using System.Numerics.Tensors;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The dense symmetric-positive-definite algebra GPTQ needs, in double precision on row-major <c>n × n</c> arrays.
/// Every step works on contiguous row prefixes or suffixes so the inner loops vectorise.
/// </summary>
internal static class CholeskyMath
{
    /// <summary>Lower-triangular L with A = L·Lᵀ; throws when A is not positive definite.</summary>
    public static double[] Lower(ReadOnlySpan<double> a, int n)
    {
        var l = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j] - TensorPrimitives.SumOfSquares<double>(l.AsSpan(j * n, j));
            if (!(d > 0))
            {
                throw new ArithmeticException($"matrix is not positive definite: pivot {j} is {d:g4}; more dampening or calibration data is needed");
            }

            double pivot = Math.Sqrt(d);
            l[j * n + j] = pivot;
            var rowJ = l.AsSpan(j * n, j);
            for (int i = j + 1; i < n; i++)
            {
                l[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot<double>(l.AsSpan(i * n, j), rowJ)) / pivot;
            }
        }

        return l;
    }

    /// <summary>A⁻¹ from A's Cholesky factor L: A⁻¹ = L⁻ᵀ·L⁻¹.</summary>
    public static double[] InverseFromLower(double[] l, int n)
    {
        // Rows of M = L⁻¹ by forward substitution: M[i,:] = (e_i − Σ_{k<i} L[i,k]·M[k,:]) / L[i,i].
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var row = m.AsSpan(i * n, i + 1);
            row[i] = 1;
            for (int k = 0; k < i; k++)
            {
                double factor = l[i * n + k];
                if (factor != 0)
                {
                    TensorPrimitives.MultiplyAdd<double>(m.AsSpan(k * n, k + 1), -factor, row[..(k + 1)], row[..(k + 1)]);
                }
            }

            TensorPrimitives.Divide<double>(row, l[i * n + i], row);
        }

        // (A⁻¹)[i,j] = Σ_{k ≥ max(i,j)} M[k,i]·M[k,j]: dot products of suffixes of Mᵀ's rows.
        var mt = Transpose(m, n);
        var inverse = new double[n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = i; j < n; j++)
            {
                double v = TensorPrimitives.Dot<double>(mt.AsSpan(i * n + j, n - j), mt.AsSpan(j * n + j, n - j));
                inverse[i * n + j] = v;
                inverse[j * n + i] = v;
            }
        });
        return inverse;
    }

    /// <summary>Upper-triangular U with A = Uᵀ·U (torch.linalg.cholesky(A, upper=True)).</summary>
    public static double[] Upper(ReadOnlySpan<double> a, int n) => Transpose(Lower(a, n), n);

    public static double[] Transpose(double[] a, int n)
    {
        var t = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                t[j * n + i] = a[i * n + j];
            }
        }

        return t;
    }
}
