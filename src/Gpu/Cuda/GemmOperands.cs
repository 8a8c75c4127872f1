namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// What a GEMM's x and w hold, which decides its cuBLASLt types: fp32 operands and sums; int8 operands with exact
/// int32 sums; bf16 operands (exact products) with fp32 sums. The output is float32 except for int8.
/// </summary>
internal enum GemmOperands
{
    Float32,
    Int8,
    BFloat16,
}
