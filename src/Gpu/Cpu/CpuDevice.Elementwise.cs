using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

public sealed partial class CpuDevice
{
    public void Embed(DeviceTensor ids, DeviceTensor table, DeviceTensor output)
    {
        if (Float32Views.Any(output))
        {
            using var views = new Float32Views(this);
            Embed(ids, table, views.Of(output));
            views.Store(output);
            return;
        }

        var tokens = Indices(ids, nameof(Embed) + " ids");
        RequireShape(output, tokens.Length, table.Columns, nameof(Embed));
        RequireType(output, TensorType.Float32, nameof(Embed) + " output");
        var result = Own(output).Span<float>();
        int width = table.Columns;
        for (int t = 0; t < tokens.Length; t++)
        {
            if ((uint)tokens[t] >= (uint)table.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {tokens[t]} at position {t} is outside the vocabulary of {table.Rows}");
            }

            var row = result.Slice(t * width, width);
            switch (table.Type)
            {
                case TensorType.Float32:
                    Own(table).Span<float>().Slice(tokens[t] * width, width).CopyTo(row);
                    break;
                case TensorType.BFloat16:
                    BFloat16.Widen(Own(table).Span<BFloat16>().Slice(tokens[t] * width, width), row);
                    break;
                default:
                    throw new ArgumentException($"{nameof(Embed)} table: expected Float32 or BFloat16, got {table}");
            }
        }
    }

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor output)
    {
        if (Float32Views.Any(x, output))
        {
            using var views = new Float32Views(this);
            RmsNorm(views.Of(x), weight, eps, views.Of(output));
            views.Store(output);
            return;
        }

        RequireShape(output, x.Rows, x.Columns, nameof(RmsNorm));
        RequireShape(weight, 1, x.Columns, nameof(RmsNorm) + " weight");
        float[] input = Own(x).Array<float>(), gain = Own(weight).Array<float>(), result = Own(output).Array<float>();
        int width = x.Columns;
        ForEachRow(x.Rows, width, t =>
        {
            var row = input.AsSpan(t * width, width);
            var target = result.AsSpan(t * width, width);
            float inverseRms = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / width + eps);
            TensorPrimitives.Multiply(row, inverseRms, target);
            TensorPrimitives.Multiply(target, gain, target);
        });
    }

    public void ApplyRope(DeviceTensor x, int heads, int headDim, DeviceTensor positions, DeviceTensor inverseFrequencies)
    {
        if (Float32Views.Any(x))
        {
            using var views = new Float32Views(this);
            ApplyRope(views.Of(x), heads, headDim, positions, inverseFrequencies);
            views.Store(x);
            return;
        }

        var position = Indices(positions, nameof(ApplyRope) + " positions");
        RequireShape(x, position.Length, heads * headDim, nameof(ApplyRope));
        RequireShape(inverseFrequencies, 1, headDim / 2, nameof(ApplyRope) + " frequencies");
        var data = Own(x).Span<float>();
        var frequencies = Own(inverseFrequencies).Span<float>();
        int half = headDim / 2;
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int t = 0; t < position.Length; t++)
        {
            // Angles in float32 as transformers computes them (position × inv_freq), so golden logits agree.
            for (int i = 0; i < half; i++)
            {
                float angle = position[t] * frequencies[i];
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }

            for (int h = 0; h < heads; h++)
            {
                var head = data.Slice(t * heads * headDim + h * headDim, headDim);
                for (int i = 0; i < half; i++)
                {
                    float first = head[i], second = head[i + half];
                    head[i] = first * cos[i] - second * sin[i];
                    head[i + half] = second * cos[i] + first * sin[i];
                }
            }
        }
    }

    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor output)
    {
        if (Float32Views.Any(gate, up, output))
        {
            using var views = new Float32Views(this);
            SiluMul(views.Of(gate), views.Of(up), views.Of(output));
            views.Store(output);
            return;
        }

        RequireShape(up, gate.Rows, gate.Columns, nameof(SiluMul));
        RequireShape(output, gate.Rows, gate.Columns, nameof(SiluMul));
        float[] g = Own(gate).Array<float>(), u = Own(up).Array<float>(), result = Own(output).Array<float>();
        int width = gate.Columns;
        ForEachRow(gate.Rows, width, t =>
        {
            var gateRow = g.AsSpan(t * width, width);
            var target = result.AsSpan(t * width, width);

            // The output may be the gate itself (the layer reuses that buffer), so the sigmoid goes to scratch first.
            float[] scratch = ArrayPool<float>.Shared.Rent(width);
            var sigmoid = scratch.AsSpan(0, width);
            TensorPrimitives.Sigmoid(gateRow, sigmoid);
            TensorPrimitives.Multiply(sigmoid, gateRow, sigmoid);
            TensorPrimitives.Multiply(sigmoid, u.AsSpan(t * width, width), target);
            ArrayPool<float>.Shared.Return(scratch);
        });
    }

    public void AddInPlace(DeviceTensor x, DeviceTensor y)
    {
        if (Float32Views.Any(x, y))
        {
            using var views = new Float32Views(this);
            AddInPlace(views.Of(x), views.Of(y));
            views.Store(x);
            return;
        }

        RequireShape(y, x.Rows, x.Columns, nameof(AddInPlace));
        var target = Own(x).Span<float>();
        TensorPrimitives.Add(target, Own(y).Span<float>(), target);
    }

    /// <summary>Runs a per-row body over all rows, in parallel once there is enough work to pay for the fan-out.</summary>
    private void ForEachRow(int rows, int width, Action<int> body)
    {
        if ((long)rows * width < 1 << 15)
        {
            for (int t = 0; t < rows; t++)
            {
                body(t);
            }

            return;
        }

        Parallel.For(0, rows, _parallel, body);
    }
}
