using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// What <see cref="IComputeDevice.TokenLogProbs"/> found for some rows of a step, on the host: each row's target
/// log-probability, and its <see cref="Top"/> most likely tokens row after row (<c>[Rows, Top]</c>; id −1 for a slot no
/// token filled).
/// </summary>
public sealed class TokenScores(int rows, int top)
{
    public int Rows { get; } = rows;

    public int Top { get; } = top;

    public float[] TargetLogProbs { get; } = new float[rows];

    public int[] TopIds { get; } = new int[rows * top];

    public float[] TopLogProbs { get; } = new float[rows * top];
}
