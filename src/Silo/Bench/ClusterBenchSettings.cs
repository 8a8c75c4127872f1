namespace OrleansQuant.Silo.Bench;

/// <summary>
/// What <c>bench --parts cluster</c> serves and how: the model (a checkpoint directory or a model name the load
/// understands), how it is quantized first (<see cref="Method"/> "gptq" or "rtn" from self-calibration on
/// <see cref="Samples"/> × <see cref="CalibrationTokens"/>, or "none": served as loaded, e.g. an already-quantized
/// checkpoint), the concurrencies to run, and each sequence's prompt and output length.
/// </summary>
internal sealed record ClusterBenchSettings(
    string Model,
    string Method,
    int Samples,
    int CalibrationTokens,
    IReadOnlyList<int> Concurrency,
    int PromptTokens,
    int MaxTokens,
    string DType = "auto")
{
    public static readonly string[] Methods = ["gptq", "rtn", "none"];

    public bool Quantizes => Method != "none";

    public void Validate()
    {
        if (!Methods.Contains(Method))
        {
            throw new ArgumentException($"--quantize '{Method}': expected one of {string.Join(", ", Methods)}");
        }

        foreach (var (option, value) in new[] { ("--samples", Samples), ("--max-tokens", CalibrationTokens), ("--prompt-tokens", PromptTokens), ("--new-tokens", MaxTokens) })
        {
            if (value < 1)
            {
                throw new ArgumentException($"{option} {value}: expected at least 1");
            }
        }
    }
}
