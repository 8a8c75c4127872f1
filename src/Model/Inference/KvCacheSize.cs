using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// How much device memory one sequence's keys and values take in one layer: whole blocks of <see cref="BlockSize"/>
/// positions from the layer's <see cref="PagedKvCache"/>, so a scheduler can budget sequences without asking the layers.
/// </summary>
public static class KvCacheSize
{
    /// <summary>Positions per cache block, as in vLLM: small enough to waste little, large enough for whole-block reads.</summary>
    public const int BlockSize = 16;

    /// <summary>Blocks a sequence of <paramref name="positions"/> positions holds.</summary>
    public static int Blocks(int positions) => (positions + BlockSize - 1) / BlockSize;

    /// <summary>Bytes of keys plus values for <paramref name="positions"/> positions of <paramref name="kvWidth"/> each, in a cache of <paramref name="type"/> (Float32 or BFloat16).</summary>
    public static long Bytes(int positions, int kvWidth, TensorType type = TensorType.Float32) =>
        2L * Blocks(positions) * BlockSize * kvWidth * type.ElementSize();
}
