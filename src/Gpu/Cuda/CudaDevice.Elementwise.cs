namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    public void Embed(ReadOnlySpan<int> ids, DeviceTensor table, DeviceTensor output)
    {
        var rows = Own(table, nameof(Embed));
        var target = Own(output, nameof(Embed));
        RequireShape(output, ids.Length, table.Columns, nameof(Embed));
        for (int t = 0; t < ids.Length; t++)
        {
            if ((uint)ids[t] >= (uint)table.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {ids[t]} at position {t} is outside the vocabulary of {table.Rows}");
            }
        }

        if (ids.IsEmpty)
        {
            return;
        }

        // The contract passes host ids, so they travel per call; a device tensor of ids will replace this upload.
        using var deviceIds = this.UploadNew(ids, 1, ids.Length);
        ulong tablePointer = rows.Pointer, idsPointer = ((CudaTensor)deviceIds).Pointer, outputPointer = target.Pointer;
        int width = table.Columns;
        void** arguments = stackalloc void*[] { &tablePointer, &idsPointer, &outputPointer, &width };
        Launch("embed_gather", (uint)ids.Length, 1, RowThreads, 0, arguments);
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

    public void ApplyRope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, DeviceTensor inverseFrequencies)
    {
        RequireShape(x, positions.Length, heads * headDim, nameof(ApplyRope));
        RequireShape(inverseFrequencies, 1, headDim / 2, nameof(ApplyRope) + " frequencies");
        var data = Own(x, nameof(ApplyRope));
        var frequencies = Own(inverseFrequencies, nameof(ApplyRope));
        if (positions.IsEmpty)
        {
            return;
        }

        using var devicePositions = this.UploadNew(positions, 1, positions.Length);
        ulong pointer = data.Pointer, positionPointer = ((CudaTensor)devicePositions).Pointer, frequencyPointer = frequencies.Pointer;
        void** arguments = stackalloc void*[] { &pointer, &positionPointer, &frequencyPointer, &heads, &headDim };
        Launch("rope_rotate_half", (uint)positions.Length, 1, RowThreads, 0, arguments);
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
