using System.Numerics;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// The context length a decode step reports to attention instead of its longest sequence's: the next power of two
/// from <see cref="Smallest"/> up, at most the model's context. The GPU's decode attention sizes its grid and shared
/// memory from that length (flash decoding's partitions), so with it the launch depends on the bucket rather than on
/// the step, and one recorded decode graph serves every step until a sequence crosses into the next bucket (as vLLM
/// pads a captured step to fixed sizes). A partition past a sequence's own length does no work.
/// </summary>
internal static class ContextBucket
{
    /// <summary>Short contexts share one bucket: below it a partition is mostly empty anyway.</summary>
    public const int Smallest = 256;

    /// <param name="context">the step's longest context, this step's token included; at most <paramref name="modelContext"/>.</param>
    /// <param name="modelContext">the most positions a sequence may hold (max_position_embeddings).</param>
    public static int Of(int context, int modelContext)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(modelContext, context);
        int bucket = context <= Smallest ? Smallest : (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)context), int.MaxValue);
        return Math.Min(bucket, modelContext);
    }
}
