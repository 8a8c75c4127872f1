namespace OrleansQuant.Gpu.Cuda;

// The activation quantizations of a W8A8 layer fused into the kernels that produce their inputs (fused_quantize.cu):
// one launch and one pass over the row instead of two, and no float copy written when no reader needs it.
// The activations of a call (x and normed; gate, up and output) are all Float32 or all BFloat16; with BFloat16 the
// kernel quantizes the norm or SwiGLU output rounded to bf16, as the unfused calls would store it, even when it is
// not written out.
public sealed unsafe partial class CudaDevice
{
    public void RmsNormQuantize(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor? normed, DeviceTensor quantized, DeviceTensor scales)
    {
        const string call = nameof(RmsNormQuantize);
        RequireQuantizedRows(x, quantized, scales, call);
        RequireShape(weight, 1, x.Columns, call + " weight");
        RequireType(weight, TensorType.Float32, call + " weight");
        bool bf16 = ActivationsAreBf16(call, ("x", x), ("normed", normed));
        ulong output = OptionalOutput(normed, x.Rows, x.Columns, call + " normed");

        ulong input = Own(x, call).Pointer, gain = Own(weight, call).Pointer;
        ulong codes = Own(quantized, call).Pointer, scale = Own(scales, call).Pointer;
        int width = x.Columns;
        if (x.Rows == 0)
        {
            return;
        }

        // RowThreads, as rms_norm is launched: the sum of squares is then reduced in the same order.
        void** arguments = stackalloc void*[] { &input, &gain, &output, &codes, &scale, &width, &eps };
        Launch(bf16 ? "rms_norm_quantize_bf16" : "rms_norm_quantize", (uint)x.Rows, 1, RowThreads, 0, arguments);
    }

    public void SiluMulQuantize(DeviceTensor gate, DeviceTensor up, DeviceTensor? output, DeviceTensor quantized, DeviceTensor scales)
    {
        const string call = nameof(SiluMulQuantize);
        RequireQuantizedRows(gate, quantized, scales, call);
        RequireShape(up, gate.Rows, gate.Columns, call + " up");
        bool bf16 = ActivationsAreBf16(call, ("gate", gate), ("up", up), ("output", output));
        ulong result = OptionalOutput(output, gate.Rows, gate.Columns, call + " output");

        ulong g = Own(gate, call).Pointer, u = Own(up, call).Pointer;
        ulong codes = Own(quantized, call).Pointer, scale = Own(scales, call).Pointer;
        int width = gate.Columns;
        if (gate.Rows == 0)
        {
            return;
        }

        void** arguments = stackalloc void*[] { &g, &u, &result, &codes, &scale, &width };
        Launch(bf16 ? "silu_mul_quantize_bf16" : "silu_mul_quantize", (uint)gate.Rows, 1, RowThreads, 0, arguments);
    }

    /// <summary>
    /// The int8 half of a fused call, as <see cref="IComputeDevice.QuantizePerToken"/> states it: quantized Int8 of the
    /// input's shape, scales Float32 <c>[rows, 1]</c> (the input's type is checked with the call's other activations).
    /// </summary>
    private static void RequireQuantizedRows(DeviceTensor input, DeviceTensor quantized, DeviceTensor scales, string call)
    {
        RequireShape(quantized, input.Rows, input.Columns, call + " quantized");
        RequireShape(scales, input.Rows, 1, call + " scales");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireType(scales, TensorType.Float32, call + " scales");
    }

    /// <summary>The pointer of an optional <c>[rows, columns]</c> output, checked like the call's other tensors; 0 when there is none.</summary>
    private ulong OptionalOutput(DeviceTensor? tensor, int rows, int columns, string what)
    {
        if (tensor is null)
        {
            return 0;
        }

        RequireShape(tensor, rows, columns, what);
        return Own(tensor, what).Pointer;
    }
}
