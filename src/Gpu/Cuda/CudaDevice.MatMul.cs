namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    private const int GemmTile = 16;

    /// <summary>How the last fp32 GEMM ran: "cublasLt", or "own kernel: " and why cuBLASLt was not used.</summary>
    public string LastMatMulPath { get; private set; } = "none yet";

    public void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        int tokens = x.Rows, inner = x.Columns, outputs = weight.Rows;
        RequireShape(weight, outputs, inner, nameof(MatMul) + " weight");
        RequireShape(output, tokens, outputs, nameof(MatMul) + " output");
        RequireType(x, TensorType.Float32, nameof(MatMul) + " x");
        RequireType(weight, TensorType.Float32, nameof(MatMul) + " weight");
        RequireType(output, TensorType.Float32, nameof(MatMul) + " output");
        if (bias is not null)
        {
            RequireShape(bias, 1, outputs, nameof(MatMul) + " bias");
        }

        ulong input = Own(x, nameof(MatMul)).Pointer, w = Own(weight, nameof(MatMul)).Pointer, y = Own(output, nameof(MatMul)).Pointer;
        if (tokens == 0 || outputs == 0)
        {
            return;
        }

        Gemm(int8: false, tokens, outputs, inner, input, w, y, "gemm_f32_nt", path => LastMatMulPath = path);
        if (bias is not null)
        {
            ulong b = Own(bias, nameof(MatMul)).Pointer;
            void** arguments = stackalloc void*[] { &y, &b, &tokens, &outputs };
            Launch("add_bias", GridFor((long)tokens * outputs), 1, RowThreads, 0, arguments);
        }
    }

    /// <summary>cuBLASLt when it takes the shape, else this backend's tiled kernel; <paramref name="report"/> hears which.</summary>
    private void Gemm(bool int8, int tokens, int outputs, int inner, ulong x, ulong w, ulong y, string fallbackKernel, Action<string> report)
    {
        string? refusal = CublasLtUnavailable is { } missing ? $"cuBLASLt unavailable: {missing}"
            : int8 && ForceOwnInt8Gemm ? "forced by a test"
            : null;
        if (refusal is null && inner == 0)
        {
            refusal = "K = 0";
        }

        if (refusal is null && _cublasLt!.TryRun(int8, tokens, outputs, inner, x, w, y, out refusal))
        {
            report("cublasLt");
            return;
        }

        report("own kernel: " + refusal);
        void** arguments = stackalloc void*[] { &x, &w, &y, &tokens, &outputs, &inner };
        Launch(fallbackKernel, (uint)((outputs + GemmTile - 1) / GemmTile), (uint)((tokens + GemmTile - 1) / GemmTile), GemmTile, GemmTile, 0, arguments);
    }
}
