using System.Text.Json.Serialization;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The body of <c>POST /admin/v1/models/{model}/quantize</c>: what <c>cluster quantize</c> takes, with its defaults.
/// <see cref="Recipe"/> is llm-compressor recipe text (YAML or JSON); none is SmoothQuant 0.8 + GPTQ W8A8.
/// <see cref="Calibration"/> is a text/JSONL file the coordinator's silo can read, or "self" (drawn from the model).
/// </summary>
internal sealed record AdminQuantizeRequest
{
    [JsonPropertyName("recipe")]
    public string? Recipe { get; init; }

    [JsonPropertyName("calibration")]
    public string? Calibration { get; init; } = "self";

    [JsonPropertyName("samples")]
    public int Samples { get; init; } = 512;

    [JsonPropertyName("max_tokens")]
    public int MaxTokens { get; init; } = 2048;

    [JsonPropertyName("seed")]
    public int Seed { get; init; } = 42;

    /// <summary>Calibrate each layer on the quantized layers before it, instead of all layers at once.</summary>
    [JsonPropertyName("sequential")]
    public bool Sequential { get; init; }

    /// <summary>False answers 202 with the job at once instead of streaming its progress.</summary>
    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    /// <summary>The cluster's request; the recipe (already checked by the caller) travels as its text.</summary>
    public QuantizeRequest ToContract()
    {
        if (string.IsNullOrWhiteSpace(Calibration))
        {
            throw OpenAiException.BadRequest("calibration", "calibration is empty; expected 'self' or a text/JSONL file the coordinator's silo can read");
        }

        if (Samples < 1)
        {
            throw OpenAiException.BadRequest("samples", $"samples is {Samples}; expected at least 1 calibration sample");
        }

        if (MaxTokens < 1)
        {
            throw OpenAiException.BadRequest("max_tokens", $"max_tokens is {MaxTokens}; expected at least 1 token per calibration sample");
        }

        return new QuantizeRequest(Recipe ?? "", Calibration, Samples, MaxTokens, Seed,
            Sequential ? ClusterQuantizationMode.Sequential : ClusterQuantizationMode.LayerParallel);
    }
}
