namespace OrleansQuant.Model.Calibration;

/// <summary>
/// How much calibration data to use. The defaults are llm-compressor's (NUM_CALIBRATION_SAMPLES 512,
/// MAX_SEQUENCE_LENGTH 2048, shuffle seed 42) so results are comparable with its W8A8 recipes.
/// </summary>
public sealed record CalibrationOptions(int Samples = 512, int MaxTokens = 2048, int Seed = 42)
{
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range; the exception names it.</exception>
    public void Validate()
    {
        if (Samples < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Samples), Samples, $"{nameof(Samples)} is {Samples}; expected at least 1");
        }

        if (MaxTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, $"{nameof(MaxTokens)} is {MaxTokens}; expected at least 1");
        }
    }
}
