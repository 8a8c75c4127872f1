using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

// Calibration statistics: per-channel |x|max for SmoothQuant (Xiao et al. 2023, §4) and XᵀX for GPTQ's Hessian
// (Frantar et al. 2023, §3). Bit for bit what the host accumulation did before the statistics moved onto the device,
// so quantized weights do not change with where the statistics live.
public sealed partial class CpuDevice
{
    /// <summary>
    /// Tokens are widened to double a chunk at a time, about 8 MB of scratch whatever the batch, instead of a double
    /// copy of the whole batch (2048 × 14336 tokens would be 235 MB per call).
    /// </summary>
    private const int GramScratchElements = 1 << 20;

    public void AccumulateAbsMax(DeviceTensor x, DeviceTensor absMax)
    {
        RequireFloatInput(x, nameof(AccumulateAbsMax));
        RequireType(absMax, TensorType.Float32, nameof(AccumulateAbsMax) + " absMax");
        RequireShape(absMax, 1, x.Columns, nameof(AccumulateAbsMax) + " absMax");
        var maxima = Own(absMax).Span<float>();
        int n = x.Columns;
        if (n == 0)
        {
            return;
        }

        // A max of floats is exact, so taking it in float and widening later equals taking it in double; Max
        // propagates NaN as Math.Max does, so a poisoned channel still shows.
        float[] scratch = ArrayPool<float>.Shared.Rent(n);
        var magnitudes = scratch.AsSpan(0, n);
        for (int t = 0; t < x.Rows; t++)
        {
            if (x.Type == TensorType.BFloat16)
            {
                BFloat16.Widen(Own(x).Span<BFloat16>().Slice(t * n, n), magnitudes);
                TensorPrimitives.Abs(magnitudes, magnitudes);
            }
            else
            {
                TensorPrimitives.Abs(Own(x).Span<float>().Slice(t * n, n), magnitudes);
            }

            TensorPrimitives.Max(maxima, magnitudes, maxima);
        }

        ArrayPool<float>.Shared.Return(scratch);
    }

    public void AccumulateGram(DeviceTensor x, DeviceTensor gram)
    {
        RequireFloatInput(x, nameof(AccumulateGram));
        RequireType(gram, TensorType.Float64, nameof(AccumulateGram) + " gram");
        RequireShape(gram, x.Columns, x.Columns, nameof(AccumulateGram) + " gram");
        double[] sums = Own(gram).Array<double>();
        int n = x.Columns, tokens = x.Rows;
        if (n == 0 || tokens == 0)
        {
            return;
        }

        int chunk = Math.Clamp(GramScratchElements / n, 1, tokens);
        double[] rows = ArrayPool<double>.Shared.Rent(chunk * n);
        int count = 0;

        // Upper triangle only: row i belongs to one thread, which adds x_i · x[i..] token after token, so every sum
        // is taken in token order however many threads run and however the tokens are chunked. One delegate per call,
        // reading the chunk from the captured locals.
        Action<int> accumulateRow = i =>
        {
            var target = sums.AsSpan(i * n + i, n - i);
            for (int t = 0; t < count; t++)
            {
                double xi = rows[t * n + i];
                if (xi != 0)
                {
                    TensorPrimitives.MultiplyAdd<double>(rows.AsSpan(t * n + i, n - i), xi, target, target);
                }
            }
        };

        try
        {
            for (int first = 0; first < tokens; first += chunk)
            {
                count = Math.Min(chunk, tokens - first);
                Widen(x, first * n, rows.AsSpan(0, count * n));

                Parallel.For(0, n, _parallel, accumulateRow);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rows);
        }
    }

    /// <summary>Elements [start, start + destination.Length) of a Float32 or BFloat16 tensor, widened exactly to double.</summary>
    private void Widen(DeviceTensor x, int start, Span<double> destination)
    {
        if (x.Type == TensorType.BFloat16)
        {
            var source = Own(x).Span<BFloat16>().Slice(start, destination.Length);
            for (int k = 0; k < destination.Length; k++)
            {
                destination[k] = source[k].ToSingle();
            }
        }
        else
        {
            var source = Own(x).Span<float>().Slice(start, destination.Length);
            for (int k = 0; k < destination.Length; k++)
            {
                destination[k] = source[k];
            }
        }
    }
}
