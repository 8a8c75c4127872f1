namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    public void Embed(DeviceTensor ids, DeviceTensor table, DeviceTensor output)
    {
        var rows = Own(table, nameof(Embed));
        var tokens = Own(ids, nameof(Embed));
        var target = Own(output, nameof(Embed));
        RequireType(ids, TensorType.Int32, nameof(Embed) + " ids");
        RequireShape(ids, 1, ids.Columns, nameof(Embed) + " ids");
        RequireShape(output, ids.Columns, table.Columns, nameof(Embed));
        bool bf16 = ActivationsAreBf16(nameof(Embed), ("output", output));
        string kernel = table.Type switch
        {
            TensorType.Float32 => "embed_gather",
            TensorType.BFloat16 => "embed_gather_bf16",
            _ => throw new ArgumentException($"{nameof(Embed)} table: expected Float32 or BFloat16, got {table}"),
        };
        // "_bf16" names the table here, so a bf16 output's twin is "_abf16" (embedding.cu).
        kernel += bf16 ? "_abf16" : "";
        // Ids stay on the device, so one outside the vocabulary cannot be reported here: its row comes out NaN.
        ulong tablePointer = rows.Pointer, idsPointer = tokens.Pointer, outputPointer = target.Pointer;
        int width = table.Columns, vocabulary = table.Rows;
        void** arguments = stackalloc void*[] { &tablePointer, &idsPointer, &outputPointer, &width, &vocabulary };
        Launch(kernel, (uint)ids.Columns, 1, RowThreads, 0, arguments);
    }

    public void RmsNorm(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor output)
    {
        RequireShape(output, x.Rows, x.Columns, nameof(RmsNorm));
        RequireShape(weight, 1, x.Columns, nameof(RmsNorm) + " weight");
        RequireType(weight, TensorType.Float32, nameof(RmsNorm) + " weight");
        bool bf16 = ActivationsAreBf16(nameof(RmsNorm), ("x", x), ("output", output));
        ulong input = Own(x, nameof(RmsNorm)).Pointer, gain = Own(weight, nameof(RmsNorm)).Pointer, result = Own(output, nameof(RmsNorm)).Pointer;
        int width = x.Columns;
        void** arguments = stackalloc void*[] { &input, &gain, &result, &width, &eps };
        Launch(bf16 ? "rms_norm_bf16" : "rms_norm", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void ApplyRope(DeviceTensor x, int heads, int headDim, DeviceTensor positions, DeviceTensor inverseFrequencies)
    {
        RequireType(positions, TensorType.Int32, nameof(ApplyRope) + " positions");
        RequireShape(positions, 1, x.Rows, nameof(ApplyRope) + " positions");
        RequireShape(x, x.Rows, heads * headDim, nameof(ApplyRope));
        RequireShape(inverseFrequencies, 1, headDim / 2, nameof(ApplyRope) + " frequencies");
        bool bf16 = ActivationsAreBf16(nameof(ApplyRope), ("x", x));
        var data = Own(x, nameof(ApplyRope));
        var frequencies = Own(inverseFrequencies, nameof(ApplyRope));
        ulong pointer = data.Pointer, positionPointer = Own(positions, nameof(ApplyRope)).Pointer, frequencyPointer = frequencies.Pointer;
        void** arguments = stackalloc void*[] { &pointer, &positionPointer, &frequencyPointer, &heads, &headDim };
        Launch(bf16 ? "rope_rotate_half_bf16" : "rope_rotate_half", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor output)
    {
        RequireShape(up, gate.Rows, gate.Columns, nameof(SiluMul));
        RequireShape(output, gate.Rows, gate.Columns, nameof(SiluMul));
        bool bf16 = ActivationsAreBf16(nameof(SiluMul), ("gate", gate), ("up", up), ("output", output));
        ulong g = Own(gate, nameof(SiluMul)).Pointer, u = Own(up, nameof(SiluMul)).Pointer, result = Own(output, nameof(SiluMul)).Pointer;
        long count = gate.Length;
        void** arguments = stackalloc void*[] { &g, &u, &result, &count };
        Launch(bf16 ? "silu_mul_bf16" : "silu_mul", GridFor(count), 1, RowThreads, 0, arguments);
    }

    public void AddInPlace(DeviceTensor x, DeviceTensor y)
    {
        RequireShape(y, x.Rows, x.Columns, nameof(AddInPlace));
        bool bf16 = ActivationsAreBf16(nameof(AddInPlace), ("x", x), ("y", y));
        ulong target = Own(x, nameof(AddInPlace)).Pointer, addend = Own(y, nameof(AddInPlace)).Pointer;
        long count = x.Length;
        void** arguments = stackalloc void*[] { &target, &addend, &count };
        Launch(bf16 ? "add_in_place_bf16" : "add_in_place", GridFor(count), 1, RowThreads, 0, arguments);
    }

    /// <summary>
    /// Whether the activations of <paramref name="call"/> are BFloat16 (else Float32). Each may be either
    /// (<see cref="IComputeDevice"/>, "Activations"), but one call's are of one type, so that every kernel needs two
    /// instantiations rather than one per mix; a null entry (an optional output not asked for) is skipped.
    /// </summary>
    private static bool ActivationsAreBf16(string call, params ReadOnlySpan<(string Name, DeviceTensor? Tensor)> activations)
    {
        TensorType? type = null;
        foreach (var (name, tensor) in activations)
        {
            if (tensor is null)
            {
                continue;
            }

            RequireActivation(tensor, $"{call} {name}");
            type ??= tensor.Type;
        }

        foreach (var (_, tensor) in activations)
        {
            if (tensor is not null && tensor.Type != type)
            {
                string all = string.Join(", ", activations.ToArray().Where(a => a.Tensor is not null).Select(a => $"{a.Name} {a.Tensor}"));
                throw new ArgumentException($"{call}: the activations must be all Float32 or all BFloat16; got {all}");
            }
        }

        return type == TensorType.BFloat16;
    }
}
