namespace OrleansQuant.Gpu.Cpu;

// The fused activation quantizations. On host cores a second pass over a row that is still in cache costs little, so
// these are the two calls in sequence through one scratch row: equal to them by construction.
public sealed partial class CpuDevice
{
    public void RmsNormQuantize(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor? normed, DeviceTensor quantized, DeviceTensor scales)
    {
        RequirePerTokenQuantization(x, quantized, scales);
        if (normed is not null)
        {
            RmsNorm(x, weight, eps, normed);
            QuantizePerToken(normed, quantized, scales);
            return;
        }

        using var scratch = Allocate(x.Type, x.Rows, x.Columns); // the norm output the unfused calls would store
        RmsNorm(x, weight, eps, scratch);
        QuantizePerToken(scratch, quantized, scales);
    }

    public void SiluMulQuantize(DeviceTensor gate, DeviceTensor up, DeviceTensor? output, DeviceTensor quantized, DeviceTensor scales)
    {
        RequirePerTokenQuantization(gate, quantized, scales);
        if (output is not null)
        {
            SiluMul(gate, up, output);
            QuantizePerToken(output, quantized, scales);
            return;
        }

        using var scratch = Allocate(gate.Type, gate.Rows, gate.Columns);
        SiluMul(gate, up, scratch);
        QuantizePerToken(scratch, quantized, scales);
    }
}
