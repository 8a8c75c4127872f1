using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // sampling.cu: one block per row; the threshold bisections are block reductions, so the more threads the fewer
    // elements each of their ~64 passes reads per thread.
    private const int SamplingThreads = 1024;

    // A SamplingRow travels as the six Int32s it occupies, read by the kernel as its own struct of the same layout.
    private static readonly int s_samplingRowInts = Unsafe.SizeOf<SamplingRow>() / sizeof(int);

    public void SampleTokens(DeviceTensor logits, ReadOnlySpan<SamplingRow> rows, DeviceTensor ids, DeviceTensor logProbs)
    {
        RequireSampling(logits, rows, ids, logProbs);
        ulong input = Own(logits, nameof(SampleTokens)).Pointer;
        ulong chosen = Own(ids, nameof(SampleTokens)).Pointer, probabilities = Own(logProbs, nameof(SampleTokens)).Pointer;
        if (rows.IsEmpty)
        {
            return;
        }

        using var parameters = Allocate(TensorType.Int32, rows.Length, s_samplingRowInts);
        Upload(MemoryMarshal.Cast<SamplingRow, int>(rows), parameters);
        // Every row's integer weights, written once and read by each bisection pass (L2-resident at decode sizes), in
        // rows padded to whole uint4s (sampling.cu's stride).
        long stride = (logits.Columns + 3) & ~3;
        ulong weights = Alloc(rows.Length * stride * sizeof(uint));
        try
        {
            ulong parameterPointer = ((CudaTensor)parameters).Pointer;
            int vocabulary = logits.Columns;
            void** arguments = stackalloc void*[] { &input, &parameterPointer, &weights, &chosen, &probabilities, &vocabulary };
            Launch("sample_tokens", (uint)rows.Length, 1, SamplingThreads, 0, arguments);
        }
        finally
        {
            Free(weights);
        }
    }
}
