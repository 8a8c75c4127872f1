using OrleansQuant.Gpu.Cuda;

namespace OrleansQuant.Gpu.Tests.Cuda;

/// <summary>The own int8 tensor-core kernels of a GPU, set up one after another, for tests that check each of them.</summary>
internal static class OwnInt8Kernels
{
    /// <summary>
    /// The own kernels this GPU has, each set up in turn as the enumeration reaches it: on Hopper the TMA-fed GEMM with
    /// the tile the device picks and with each tile it has (of <paramref name="swiGlu"/>'s kind), the cp.async-fed wgmma
    /// GEMM with the tile height the device picks and with each of 256, 128 and 64 rows, then mma.sync; elsewhere
    /// mma.sync. Callers restore the device's switches afterwards.
    /// </summary>
    public static IEnumerable<string> Each(CudaDevice gpu, bool swiGlu = false)
    {
        if (gpu.ComputeCapability == (9, 0))
        {
            foreach (Int8TmaTile? tile in new Int8TmaTile?[] { null }.Concat((swiGlu ? Int8TmaTile.SwiGlu : Int8TmaTile.Gemm).Select(t => (Int8TmaTile?)t)))
            {
                gpu.Int8Wgmma = true;
                gpu.Int8Tma = true;
                gpu.Int8TmaTileOverride = tile;
                yield return CudaDevice.Int8TmaPath;
            }

            gpu.Int8Tma = false;
            gpu.Int8TmaTileOverride = null;
            foreach (int rows in new[] { 0, 256, 128, 64 })
            {
                gpu.Int8Wgmma = true;
                gpu.Int8MmaRows = rows;
                yield return CudaDevice.Int8WgmmaPath;
            }
        }

        gpu.Int8Wgmma = false;
        gpu.Int8MmaRows = 0;
        yield return CudaDevice.Int8MmaPath;
    }
}
