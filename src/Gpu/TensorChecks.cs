namespace OrleansQuant.Gpu;

/// <summary>
/// The argument checks every device makes before it touches memory, one definition for all of them, so a wrong shape
/// or type reads the same on every device: the call, what was expected and what came.
/// </summary>
internal static class TensorChecks
{
    public static void RequireLength(int given, long expected, string call)
    {
        if (given != expected)
        {
            throw new ArgumentException($"{call}: {given} elements given, the tensor holds {expected}");
        }
    }

    public static void RequireRows(DeviceTensor tensor, int row, int rows, string call)
    {
        if (row < 0 || rows < 0 || row + rows > tensor.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"{call}: rows [{row}, {row + rows}) outside {tensor}");
        }
    }

    public static void RequireShape(DeviceTensor tensor, int rows, int columns, string what)
    {
        if (tensor.Rows != rows || tensor.Columns != columns)
        {
            throw new ArgumentException($"{what}: expected [{rows}, {columns}], got {tensor}");
        }
    }

    public static void RequireType(DeviceTensor tensor, TensorType type, string what)
    {
        if (tensor.Type != type)
        {
            throw new ArgumentException($"{what}: expected {type}, got {tensor}");
        }
    }

    /// <summary>A linear input of <paramref name="call"/> (statistics, a GEMM's x): Float32 or BFloat16.</summary>
    public static void RequireFloatInput(DeviceTensor x, string call)
    {
        if (x.Type is not (TensorType.Float32 or TensorType.BFloat16))
        {
            throw new ArgumentException($"{call} x: expected Float32 or BFloat16, got {x}");
        }
    }

    /// <summary>An activation (<see cref="IComputeDevice"/>, "Activations"): Float32 or BFloat16.</summary>
    public static void RequireActivation(DeviceTensor tensor, string what)
    {
        if (tensor.Type is not (TensorType.Float32 or TensorType.BFloat16))
        {
            throw new ArgumentException($"{what}: expected an activation, Float32 or BFloat16; got {tensor}");
        }
    }

    /// <summary>Paged KV caches as the contract allows them: both Float32 (false) or both BFloat16 (true).</summary>
    public static bool RequireKvCaches(DeviceTensor keyCache, DeviceTensor valueCache, string call)
    {
        if (keyCache.Type != valueCache.Type || keyCache.Type is not (TensorType.Float32 or TensorType.BFloat16))
        {
            throw new ArgumentException($"{call}: the key and value caches must both be Float32 or both BFloat16; got {keyCache} and {valueCache}");
        }

        return keyCache.Type == TensorType.BFloat16;
    }

    /// <summary>The arguments of <see cref="IComputeDevice.QuantizePerToken"/>, as its contract states them.</summary>
    public static void RequirePerTokenQuantization(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales)
    {
        const string call = nameof(IComputeDevice.QuantizePerToken);
        RequireShape(quantized, x.Rows, x.Columns, call + " quantized");
        RequireShape(scales, x.Rows, 1, call + " scales");
        RequireActivation(x, call + " x");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireType(scales, TensorType.Float32, call + " scales");
    }

    /// <summary>The arguments of <see cref="IComputeDevice.MatMulInt8"/>, as its contract states them.</summary>
    public static void RequireW8A8Linear(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales,
        DeviceTensor? bias, DeviceTensor output)
    {
        const string call = nameof(IComputeDevice.MatMulInt8);
        int tokens = quantized.Rows, inner = quantized.Columns, outputs = weight.Rows;
        RequireShape(tokenScales, tokens, 1, call + " token scales");
        RequireShape(weight, outputs, inner, call + " weight");
        RequireShape(weightScales, 1, outputs, call + " weight scales");
        RequireShape(output, tokens, outputs, call + " output");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireType(weight, TensorType.Int8, call + " weight");
        RequireType(tokenScales, TensorType.Float32, call + " token scales");
        RequireType(weightScales, TensorType.Float32, call + " weight scales");
        RequireActivation(output, call + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, call + " bias");
            RequireType(bias, TensorType.Float32, call + " bias");
        }
    }

    /// <summary>A Float64 <c>[n, n]</c> square (the quantization contract's Hessians and factors).</summary>
    public static void RequireSquare(DeviceTensor tensor, string what)
    {
        RequireType(tensor, TensorType.Float64, what);
        if (tensor.Rows != tensor.Columns)
        {
            throw new ArgumentException($"{what}: expected a square [n, n], got {tensor}");
        }
    }

    /// <summary>A vector <c>[1, length]</c> of <paramref name="type"/>: per-column or per-row scales, diagonals, orders.</summary>
    public static void RequireVector(DeviceTensor tensor, int length, TensorType type, string what)
    {
        RequireShape(tensor, 1, length, what);
        RequireType(tensor, type, what);
    }

    /// <summary>
    /// <paramref name="order"/> holds every index of [0, order.Length) exactly once, as a column permutation must.
    /// <paramref name="seen"/> is scratch of at least order.Length flags, cleared here.
    /// </summary>
    public static void RequirePermutation(ReadOnlySpan<int> order, Span<bool> seen, string what)
    {
        seen = seen[..order.Length];
        seen.Clear();
        for (int k = 0; k < order.Length; k++)
        {
            int index = order[k];
            if ((uint)index >= (uint)order.Length || seen[index])
            {
                throw new ArgumentException($"{what}: expected a permutation of [0, {order.Length}), but entry {k} is {index}{((uint)index < (uint)order.Length ? ", a repeat" : "")}");
            }

            seen[index] = true;
        }
    }

    /// <summary>The block [start, start + width) of GPTQ's column loop lies inside the <paramref name="columns"/> columns.</summary>
    public static void RequireColumnBlock(int start, int width, int columns, string call)
    {
        if (start < 0 || width < 0 || start + width > columns)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"{call}: block [{start}, {start + width}) outside the {columns} columns");
        }
    }

    /// <summary>The arguments of <see cref="IComputeDevice.SampleTokens"/>, as its contract states them, every row's parameters included.</summary>
    public static void RequireSampling(DeviceTensor logits, ReadOnlySpan<SamplingRow> rows, DeviceTensor ids, DeviceTensor logProbs)
    {
        const string call = nameof(IComputeDevice.SampleTokens);
        RequireType(logits, TensorType.Float32, call + " logits");
        RequireType(ids, TensorType.Int32, call + " ids");
        RequireType(logProbs, TensorType.Float32, call + " log-probabilities");
        if (rows.Length != logits.Rows)
        {
            throw new ArgumentException($"{call}: {rows.Length} sampling rows for {logits}");
        }

        if (logits.Columns == 0)
        {
            throw new ArgumentException($"{call}: logits {logits} have no vocabulary");
        }

        RequireShape(ids, 1, logits.Rows, call + " ids");
        RequireShape(logProbs, 1, logits.Rows, call + " log-probabilities");
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r].Validate(r);
        }
    }

    /// <summary>The arguments of <see cref="IComputeDevice.TokenLogProbs"/>, as its contract states them (target ids are checked where they are read).</summary>
    public static void RequireTokenLogProbs(DeviceTensor logits, DeviceTensor targets, DeviceTensor targetLogProbs, DeviceTensor topIds, DeviceTensor topLogProbs)
    {
        const string call = nameof(IComputeDevice.TokenLogProbs);
        RequireType(logits, TensorType.Float32, call + " logits");
        RequireType(targets, TensorType.Int32, call + " targets");
        RequireType(targetLogProbs, TensorType.Float32, call + " target log-probabilities");
        RequireType(topIds, TensorType.Int32, call + " top ids");
        RequireType(topLogProbs, TensorType.Float32, call + " top log-probabilities");
        if (logits.Columns == 0)
        {
            throw new ArgumentException($"{call}: logits {logits} have no vocabulary");
        }

        if (topIds.Columns < 1)
        {
            throw new ArgumentException($"{call}: top ids {topIds} have no column; expected K ≥ 1 top tokens per row");
        }

        RequireShape(targets, 1, logits.Rows, call + " targets");
        RequireShape(targetLogProbs, 1, logits.Rows, call + " target log-probabilities");
        RequireShape(topIds, logits.Rows, topIds.Columns, call + " top ids");
        RequireShape(topLogProbs, logits.Rows, topIds.Columns, call + " top log-probabilities");
    }
}
