using System.Buffers;
using System.Numerics.Tensors;

namespace OrleansQuant.Gpu.Cpu;

public sealed partial class CpuDevice
{
    public void Attention(DeviceTensor query, int queryRow, int queryCount, DeviceTensor keyCache, DeviceTensor valueCache,
        int kvLength, AttentionShape shape, DeviceTensor output)
    {
        if (query.Columns != shape.QueryWidth || output.Columns != shape.QueryWidth
            || keyCache.Columns != shape.KvWidth || valueCache.Columns != shape.KvWidth)
        {
            throw new ArgumentException($"{nameof(Attention)}: widths of {query}, {keyCache}, {valueCache}, {output} do not match {shape}");
        }

        RequireRows(query, queryRow, queryCount, nameof(Attention));
        RequireRows(output, queryRow, queryCount, nameof(Attention));
        RequireRows(keyCache, 0, kvLength, nameof(Attention));
        RequireRows(valueCache, 0, kvLength, nameof(Attention));
        if (queryCount > kvLength)
        {
            throw new ArgumentException($"{nameof(Attention)}: {queryCount} queries but only {kvLength} cached positions");
        }

        float[] q = Own(query).Array<float>(), k = Own(keyCache).Array<float>(), v = Own(valueCache).Array<float>();
        float[] result = Own(output).Array<float>();
        int headDim = shape.HeadDim, qWidth = shape.QueryWidth, kvWidth = shape.KvWidth;
        float scale = 1f / MathF.Sqrt(headDim);
        int firstPosition = kvLength - queryCount;

        void QueryHead(int item)
        {
            int i = item / shape.Heads, h = item % shape.Heads, kvHead = h / shape.GroupSize;
            int position = firstPosition + i;
            int start = shape.SlidingWindow is int window ? Math.Max(0, position - window + 1) : 0;
            int count = position + 1 - start;
            var queryVector = q.AsSpan((queryRow + i) * qWidth + h * headDim, headDim);
            var target = result.AsSpan((queryRow + i) * qWidth + h * headDim, headDim);

            float[] rented = ArrayPool<float>.Shared.Rent(count);
            var scores = rented.AsSpan(0, count);
            for (int j = 0; j < count; j++)
            {
                scores[j] = TensorPrimitives.Dot(queryVector, k.AsSpan((start + j) * kvWidth + kvHead * headDim, headDim)) * scale;
            }

            TensorPrimitives.SoftMax(scores, scores);
            target.Clear();
            for (int j = 0; j < count; j++)
            {
                TensorPrimitives.MultiplyAdd(v.AsSpan((start + j) * kvWidth + kvHead * headDim, headDim), scores[j], target, target);
            }

            ArrayPool<float>.Shared.Return(rented);
        }

        int items = queryCount * shape.Heads;
        if ((long)items * kvLength * headDim < 1 << 16)
        {
            for (int item = 0; item < items; item++)
            {
                QueryHead(item);
            }
        }
        else
        {
            Parallel.For(0, items, _parallel, QueryHead);
        }
    }
}
