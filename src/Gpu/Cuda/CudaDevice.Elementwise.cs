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
        RequireType(output, TensorType.Float32, nameof(Embed) + " output");
        string kernel = table.Type switch
        {
            TensorType.Float32 => "embed_gather",
            TensorType.BFloat16 => "embed_gather_bf16",
            _ => throw new ArgumentException($"{nameof(Embed)} table: expected Float32 or BFloat16, got {table}"),
        };
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
        ulong input = Own(x, nameof(RmsNorm)).Pointer, gain = Own(weight, nameof(RmsNorm)).Pointer, result = Own(output, nameof(RmsNorm)).Pointer;
        int width = x.Columns;
        void** arguments = stackalloc void*[] { &input, &gain, &result, &width, &eps };
        Launch("rms_norm", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void ApplyRope(DeviceTensor x, int heads, int headDim, DeviceTensor positions, DeviceTensor inverseFrequencies)
    {
        RequireType(positions, TensorType.Int32, nameof(ApplyRope) + " positions");
        RequireShape(positions, 1, x.Rows, nameof(ApplyRope) + " positions");
        RequireShape(x, x.Rows, heads * headDim, nameof(ApplyRope));
        RequireShape(inverseFrequencies, 1, headDim / 2, nameof(ApplyRope) + " frequencies");
        var data = Own(x, nameof(ApplyRope));
        var frequencies = Own(inverseFrequencies, nameof(ApplyRope));
        ulong pointer = data.Pointer, positionPointer = Own(positions, nameof(ApplyRope)).Pointer, frequencyPointer = frequencies.Pointer;
        void** arguments = stackalloc void*[] { &pointer, &positionPointer, &frequencyPointer, &heads, &headDim };
        Launch("rope_rotate_half", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor output)
    {
        RequireShape(up, gate.Rows, gate.Columns, nameof(SiluMul));
        RequireShape(output, gate.Rows, gate.Columns, nameof(SiluMul));
        ulong g = Own(gate, nameof(SiluMul)).Pointer, u = Own(up, nameof(SiluMul)).Pointer, result = Own(output, nameof(SiluMul)).Pointer;
        long count = gate.Length;
        void** arguments = stackalloc void*[] { &g, &u, &result, &count };
        Launch("silu_mul", GridFor(count), 1, RowThreads, 0, arguments);
    }

    public void AddInPlace(DeviceTensor x, DeviceTensor y)
    {
        RequireShape(y, x.Rows, x.Columns, nameof(AddInPlace));
        ulong target = Own(x, nameof(AddInPlace)).Pointer, addend = Own(y, nameof(AddInPlace)).Pointer;
        long count = x.Length;
        void** arguments = stackalloc void*[] { &target, &addend, &count };
        Launch("add_in_place", GridFor(count), 1, RowThreads, 0, arguments);
    }
}
