using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The request fields /v1/completions and /v1/chat/completions share: the model, sampling (vLLM's meanings where
/// OpenAI's are silent: <c>top_k</c>, <c>seed</c>), stop strings and streaming. <see cref="Check"/> turns them into a
/// <see cref="GenerateRequest"/> or refuses them naming the field.
/// </summary>
internal abstract record SamplingFields
{
    /// <summary>The most stop strings OpenAI accepts.</summary>
    public const int MaxStops = 4;

    /// <summary>The most choices a request may ask for per prompt (<c>n</c>).</summary>
    public const int MaxChoices = 16;

    [JsonPropertyName("model")] public string? Model { get; init; }

    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }

    [JsonPropertyName("temperature")] public float? Temperature { get; init; }

    [JsonPropertyName("top_p")] public float? TopP { get; init; }

    [JsonPropertyName("top_k")] public int? TopK { get; init; }

    [JsonPropertyName("seed")] public long? Seed { get; init; }

    [JsonPropertyName("stop")] public JsonElement? Stop { get; init; }

    [JsonPropertyName("n")] public int? N { get; init; }

    [JsonPropertyName("stream")] public bool? Stream { get; init; }

    /// <summary><c>n</c>: independent choices per prompt (1 when absent).</summary>
    public int Choices => N ?? 1;

    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }

    /// <summary>The sampling of a request whose prompt is <paramref name="promptIds"/>; max_tokens is resolved by the caller, whose default depends on the endpoint.</summary>
    /// Choice <paramref name="choice"/> of <c>n</c> samples with seed + choice when a seed is given, so the choices
    /// differ from each other and each is reproducible (greedy choices are equal, as they must be).
    public GenerateRequest ToGenerate(int[] promptIds, int maxTokens, int choice = 0) => new(
        PromptIds: promptIds,
        MaxTokens: maxTokens,
        Temperature: Temperature ?? 1f,
        TopK: TopK is null or < 0 ? 0 : TopK.Value,
        TopP: TopP ?? 1f,
        Seed: Seed is long seed ? unchecked((int)seed + choice) : null);

    /// <summary>Refuses out-of-range values naming the field; returns the stop strings.</summary>
    public IReadOnlyList<string> Check(string? maxTokensField = null)
    {
        if (MaxTokens is < 1)
        {
            throw OpenAiException.BadRequest(maxTokensField ?? "max_tokens", $"{maxTokensField ?? "max_tokens"} is {MaxTokens}; expected at least 1");
        }

        if (Temperature is < 0f || Temperature is float t && !float.IsFinite(t))
        {
            throw OpenAiException.BadRequest("temperature", $"temperature is {Temperature}; expected 0 (greedy) or more");
        }

        if (TopP is float p && !(p > 0f && p <= 1f))
        {
            throw OpenAiException.BadRequest("top_p", $"top_p is {TopP}; expected a value in (0, 1]");
        }

        if (TopK is < -1)
        {
            throw OpenAiException.BadRequest("top_k", $"top_k is {TopK}; expected -1 or 0 (off) or a positive count");
        }

        if (Seed is long seed && (seed < int.MinValue || seed > int.MaxValue))
        {
            throw OpenAiException.BadRequest("seed", $"seed is {seed}; expected a 32-bit integer");
        }

        if (N is < 1 or > MaxChoices)
        {
            throw OpenAiException.BadRequest("n", $"n is {N}; expected 1 to {MaxChoices} choices per prompt");
        }

        return Stops();
    }

    private IReadOnlyList<string> Stops()
    {
        if (Stop is not { } stop || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        string[] stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => stop.EnumerateArray().Select(s => s.GetString()!).ToArray(),
            _ => throw OpenAiException.BadRequest("stop", $"stop is {stop.ValueKind}; expected a string or an array of up to {MaxStops} strings"),
        };
        if (stops.Length > MaxStops)
        {
            throw OpenAiException.BadRequest("stop", $"stop has {stops.Length} strings; expected at most {MaxStops}");
        }

        if (stops.Any(s => s.Length == 0))
        {
            throw OpenAiException.BadRequest("stop", "stop holds an empty string; expected non-empty strings");
        }

        return stops;
    }
}
