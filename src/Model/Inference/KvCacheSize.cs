namespace OrleansQuant.Model.Inference;

/// <summary>
/// How much device memory one sequence's keys and values take in one layer: the cache starts at
/// <see cref="InitialCapacity"/> positions and doubles, so a scheduler can budget sequences without asking the layers.
/// </summary>
public static class KvCacheSize
{
    public const int InitialCapacity = 64;

    public static int Capacity(int positions)
    {
        int capacity = InitialCapacity;
        while (capacity < positions)
        {
            capacity *= 2;
        }

        return capacity;
    }

    /// <summary>Bytes of keys plus values (float32) for <paramref name="positions"/> positions of <paramref name="kvWidth"/> each.</summary>
    public static long Bytes(int positions, int kvWidth) => 2L * Capacity(positions) * kvWidth * sizeof(float);
}
