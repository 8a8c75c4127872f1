using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

public sealed partial class CpuDevice
{
    // Tiles of weight rows × tokens: a tile's weight rows stay in L2 while every token of the tile passes over them.
    private const int WeightRowsPerTile = 32;
    private const int TokensPerTile = 64;

    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = x.Rows, inner = x.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(MatMul) + " weight");
        RequireShape(output, tokens, outputs, nameof(MatMul) + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, nameof(MatMul) + " bias");
        }

        float[] input = Own(x).Array<float>(), w = Own(weight).Array<float>(), result = Own(output).Array<float>();
        float[]? b = bias is null ? null : Own(bias).Array<float>();
        int weightTiles = (outputs + WeightRowsPerTile - 1) / WeightRowsPerTile;
        int tokenTiles = (tokens + TokensPerTile - 1) / TokensPerTile;

        void Tile(int tile)
        {
            int n0 = tile % weightTiles * WeightRowsPerTile, n1 = Math.Min(n0 + WeightRowsPerTile, outputs);
            int t0 = tile / weightTiles * TokensPerTile, t1 = Math.Min(t0 + TokensPerTile, tokens);
            for (int t = t0; t < t1; t++)
            {
                var row = input.AsSpan(t * inner, inner);
                int o = t * outputs;
                for (int n = n0; n < n1; n++)
                {
                    result[o + n] = TensorPrimitives.Dot(row, w.AsSpan(n * inner, inner)) + (b is null ? 0f : b[n]);
                }
            }
        }

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
