namespace OrleansQuant.Gpu.Cpu;

// TEMPORARY: the quantization contract's placeholders, replaced by the implementation in this session's work.
public sealed partial class CpuDevice
{
    public void Convert(DeviceTensor source, DeviceTensor destination) => throw Pending();
    public void ScaleColumns(DeviceTensor x, DeviceTensor scales) => throw Pending();
    public void SymmetricFromUpper(DeviceTensor gram, double factor, DeviceTensor? inverseScales, DeviceTensor output) => throw Pending();
    public void Diagonal(DeviceTensor square, DeviceTensor diagonal) => throw Pending();
    public void AddToDiagonal(DeviceTensor square, DeviceTensor addend) => throw Pending();
    public void PermuteColumns(DeviceTensor x, DeviceTensor order, DeviceTensor output) => throw Pending();
    public void PermuteSymmetric(DeviceTensor square, DeviceTensor order, DeviceTensor output) => throw Pending();
    public void CholeskyInverseUpper(DeviceTensor square) => throw Pending();
    public void ChannelScales(DeviceTensor weights, DeviceTensor scales) => throw Pending();
    public void QuantizeRows(DeviceTensor weights, DeviceTensor scales, DeviceTensor quantized) => throw Pending();
    public void GptqQuantizeBlock(DeviceTensor weights, DeviceTensor scales, DeviceTensor upper, int start, int width, DeviceTensor quantized, DeviceTensor errors) => throw Pending();
    public void GptqPropagate(DeviceTensor weights, DeviceTensor errors, DeviceTensor upper, int start) => throw Pending();
    public void QuadraticError(DeviceTensor weights, DeviceTensor quantized, DeviceTensor scales, DeviceTensor hessian, DeviceTensor result) => throw Pending();

    private static NotSupportedException Pending() => new("quantization kernels are being written in this session");
}
