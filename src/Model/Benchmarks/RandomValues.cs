namespace OrleansQuant.Model.Benchmarks;

/// <summary>
/// Seeded uniform values filled in parallel chunks (each chunk its own <see cref="Random"/>), so building the
/// hundreds of millions of weights of an 8B-shaped layer takes a moment, and the same seed gives the same values.
/// Timings do not depend on the values; they only have to keep activations finite.
/// </summary>
internal static class RandomValues
{
    private const int Chunk = 1 << 20;

    /// <summary><paramref name="count"/> values uniform in [−<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public static float[] Uniform(long count, float bound, int seed)
    {
        var values = new float[count];
        Parallel.For(0, (int)((count + Chunk - 1) / Chunk), c =>
        {
            var random = new Random(HashCode.Combine(seed, c));
            var span = values.AsSpan((int)(c * (long)Chunk), (int)Math.Min(Chunk, count - c * (long)Chunk));
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = (2 * random.NextSingle() - 1) * bound;
            }
        });
        return values;
    }

    /// <summary>Int8 codes uniform in [−127, 127], the symmetric range W8A8 uses.</summary>
    public static sbyte[] Int8(long count, int seed)
    {
        var values = new sbyte[count];
        Parallel.For(0, (int)((count + Chunk - 1) / Chunk), c =>
        {
            var random = new Random(HashCode.Combine(seed, c));
            var span = values.AsSpan((int)(c * (long)Chunk), (int)Math.Min(Chunk, count - c * (long)Chunk));
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = (sbyte)random.Next(-127, 128);
            }
        });
        return values;
    }
}
