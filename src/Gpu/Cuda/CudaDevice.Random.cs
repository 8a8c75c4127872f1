namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    /// <summary>
    /// <see cref="IComputeDevice.FillNormal"/> as random.cu computes it: bits = SplitMix64's first output from the state
    /// seed ⊕ (i · 0x9E3779B97F4A7C15) (state += 0x9E3779B97F4A7C15, then the mix), u1 = (bits ≫ 32 + 1) / 2³²,
    /// u2 = (bits mod 2³²) / 2³², x = (float)((std · sqrt(−2 ln u1)) · cos(2π · u2)) evaluated in double.
    /// </summary>
    public void FillNormal(DeviceTensor x, ulong seed, float std)
    {
        const string call = nameof(FillNormal);
        RequireType(x, TensorType.Float32, call + " x");
        ulong target = Own(x, call).Pointer;
        long count = x.Length;
        double deviation = std;
        void** arguments = stackalloc void*[] { &target, &count, &seed, &deviation };
        if (count > 0)
        {
            Launch("fill_normal", GridFor(count), 1, RowThreads, 0, arguments);
        }
    }
}
