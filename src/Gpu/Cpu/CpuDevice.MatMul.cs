using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

public sealed partial class CpuDevice
{
    // Tiles of weight rows × tokens: a tile's weight rows stay in L2 while every token of the tile passes over them.
    private const int WeightRowsPerTile = 32;
    private const int TokensPerTile = 64;

    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        if (Float32Views.Any(x, output))
        {
            using var views = new Float32Views(this);
            MatMul(views.Of(x), weight, bias, views.Of(output));
            views.Store(output);
            return;
        }

        int tokens = x.Rows, inner = x.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(MatMul) + " weight");
        RequireShape(output, tokens, outputs, nameof(MatMul) + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, nameof(MatMul) + " bias");
        }

        RequireType(x, TensorType.Float32, nameof(MatMul) + " x");
        RequireType(output, TensorType.Float32, nameof(MatMul) + " output");
        bool bf16 = weight.Type == TensorType.BFloat16;
        if (!bf16)
        {
            RequireType(weight, TensorType.Float32, nameof(MatMul) + " weight");
        }

        float[] input = Own(x).Array<float>(), result = Own(output).Array<float>();
        float[]? w = bf16 ? null : Own(weight).Array<float>();
        BFloat16[]? wBf16 = bf16 ? Own(weight).Array<BFloat16>() : null;
        float[]? b = bias is null ? null : Own(bias).Array<float>();
        int weightTiles = (outputs + WeightRowsPerTile - 1) / WeightRowsPerTile;
        int tokenTiles = (tokens + TokensPerTile - 1) / TokensPerTile;
        float[]? rounded = null;
        if (bf16)
        {
            // A bf16 linear sees its input rounded to bf16; products of two bf16 values are exact in float.
            rounded = ArrayPool<float>.Shared.Rent(tokens * inner);
            for (int i = 0; i < tokens * inner; i++)
            {
                rounded[i] = BFloat16.Round(input[i]);
            }

            input = rounded;
        }

        void Tile(int tile)
        {
            int n0 = tile % weightTiles * WeightRowsPerTile, n1 = Math.Min(n0 + WeightRowsPerTile, outputs);
            int t0 = tile / weightTiles * TokensPerTile, t1 = Math.Min(t0 + TokensPerTile, tokens);
            float[] rows = w ?? ArrayPool<float>.Shared.Rent((n1 - n0) * inner);
            int rowBase = w is null ? n0 : 0;
            if (wBf16 is not null)
            {
                BFloat16.Widen(wBf16.AsSpan(n0 * inner, (n1 - n0) * inner), rows.AsSpan(0, (n1 - n0) * inner));
            }

            for (int t = t0; t < t1; t++)
            {
                var row = input.AsSpan(t * inner, inner);
                int o = t * outputs;
                for (int n = n0; n < n1; n++)
                {
                    result[o + n] = TensorPrimitives.Dot(row, rows.AsSpan((n - rowBase) * inner, inner)) + (b is null ? 0f : b[n]);
                }
            }

            if (w is null)
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }

        try
        {
            Run();
        }
        finally
        {
            if (rounded is not null)
            {
                ArrayPool<float>.Shared.Return(rounded);
            }
        }

        void Run()
        {
            if ((long)tokens * inner * outputs < 1 << 18)
            {
                for (int tile = 0; tile < weightTiles * tokenTiles; tile++)
                {
                    Tile(tile);
                }
            }
            else
            {
                Parallel.For(0, weightTiles * tokenTiles, _parallel, Tile);
            }
        }
    }
}
