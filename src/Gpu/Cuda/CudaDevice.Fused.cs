namespace OrleansQuant.Gpu.Cuda;

// The activation quantizations of a W8A8 layer fused into the kernels that produce their inputs (fused_quantize.cu):
// one launch and one pass over the row instead of two, and no float copy written when no reader needs it.
public sealed unsafe partial class CudaDevice
{
    public void RmsNormQuantize(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor? normed, DeviceTensor quantized, DeviceTensor scales)
    {
        const string call = nameof(RmsNormQuantize);
        RequirePerTokenQuantization(x, quantized, scales);
        RequireShape(weight, 1, x.Columns, call + " weight");
        RequireType(weight, TensorType.Float32, call + " weight");
        ulong output = OptionalFloatOutput(normed, x.Rows, x.Columns, call + " normed");

        ulong input = Own(x, call).Pointer, gain = Own(weight, call).Pointer;
        ulong codes = Own(quantized, call).Pointer, scale = Own(scales, call).Pointer;
        int width = x.Columns;
        if (x.Rows == 0)
        {
            return;
        }

        // RowThreads, as rms_norm is launched: the sum of squares is then reduced in the same order.
        void** arguments = stackalloc void*[] { &input, &gain, &output, &codes, &scale, &width, &eps };
        Launch("rms_norm_quantize", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void SiluMulQuantize(DeviceTensor gate, DeviceTensor up, DeviceTensor? output, DeviceTensor quantized, DeviceTensor scales)
    {
        const string call = nameof(SiluMulQuantize);
        RequirePerTokenQuantization(gate, quantized, scales);
        RequireShape(up, gate.Rows, gate.Columns, call + " up");
        RequireType(up, TensorType.Float32, call + " up");
        ulong result = OptionalFloatOutput(output, gate.Rows, gate.Columns, call + " output");

        ulong g = Own(gate, call).Pointer, u = Own(up, call).Pointer;
        ulong codes = Own(quantized, call).Pointer, scale = Own(scales, call).Pointer;
        int width = gate.Columns;
        if (gate.Rows == 0)
        {
            return;
        }

        void** arguments = stackalloc void*[] { &g, &u, &result, &codes, &scale, &width };
        Launch("silu_mul_quantize", (uint)gate.Rows, 1, RowThreads, 0, arguments);
    }

    /// <summary>The pointer of an optional Float32 <c>[rows, columns]</c> output, checked like the call's other tensors; 0 when there is none.</summary>
    private ulong OptionalFloatOutput(DeviceTensor? tensor, int rows, int columns, string what)
    {
        if (tensor is null)
        {
            return 0;
        }

        RequireShape(tensor, rows, columns, what);
        RequireType(tensor, TensorType.Float32, what);
        return Own(tensor, what).Pointer;
    }
}
