using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu;

/// <summary>
/// How one row of logits is sampled by <see cref="IComputeDevice.SampleTokens"/>: <see cref="Temperature"/> 0 is
/// greedy; <see cref="TopK"/> 0 and <see cref="TopP"/> 1 disable those filters; <see cref="Draw"/> is the uniform
/// u ∈ [0, 1) the host took from the sequence's own seeded stream for this step (ignored when greedy), so randomness
/// stays per sequence and reproducible whichever device samples.
/// </summary>
/// <remarks>
/// Sequential, 24 bytes (float, int, float, 4 bytes of padding, double): a device copies these values as they lie in
/// memory, and its kernels read the same layout (the CUDA device's <c>SamplingRow</c> in sampling.cu).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SamplingRow(float Temperature, int TopK, float TopP, double Draw)
{
    /// <summary>Argmax, lowest id on ties.</summary>
    public static SamplingRow Greedy { get; } = new(0f, 0, 1f, 0.0);

    public bool IsGreedy => Temperature == 0f;

    /// <summary>Throws, naming the row and the field, when a value is out of range.</summary>
    public void Validate(int row)
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, $"sampling row {row}: temperature must be a finite number ≥ 0 (0 = greedy)");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, $"sampling row {row}: top-k must be ≥ 0 (0 = no limit)");
        }

        if (!(TopP > 0f && TopP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, $"sampling row {row}: top-p must be in (0, 1]");
        }

        if (!(Draw >= 0.0 && Draw < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(Draw), Draw, $"sampling row {row}: the draw must be in [0, 1)");
        }
    }
}
