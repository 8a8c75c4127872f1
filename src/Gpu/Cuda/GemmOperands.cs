namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// What a GEMM's x and w hold and what it writes, which decides its cuBLASLt types: fp32 operands and sums into a
/// float32 output; int8 operands with exact int32 sums into an int32 output; bf16 operands (exact products) with fp32
/// sums into a float32 output, or (<see cref="BFloat16ToBFloat16"/>) into a bf16 one.
/// </summary>
internal enum GemmOperands
{
    Float32,
    Int8,
    BFloat16,

    /// <summary>
    /// bf16 operands, fp32 sums, a bf16 output: cuBLASLt's D type is bf16, and its epilogue rounds the fp32 accumulator
    /// to the nearest bf16 at the store (the fallback kernel rounds to nearest, ties to even).
    /// </summary>
    BFloat16ToBFloat16,
}
