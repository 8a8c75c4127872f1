namespace OrleansQuant.Model.Calibration;

/// <summary>Counts for a progress line: how many samples, how many tokens in all, the shortest and longest sample.</summary>
public sealed record CalibrationSummary(int Samples, long Tokens, int MinLength, int MaxLength)
{
    public override string ToString() => $"{Samples} samples, {Tokens} tokens (length {MinLength}..{MaxLength})";
}
