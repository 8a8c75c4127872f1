using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The frame every completions answer shares, whole or streamed: <c>id</c>, <c>object</c> (one of the constants
/// below), <c>created</c>, <c>model</c>, the choices, and <c>usage</c> (null in streamed chunks but the last).
/// </summary>
internal sealed record CompletionEnvelope<TChoice>(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<TChoice> Choices,
    [property: JsonPropertyName("usage")] Usage? Usage);

/// <summary>
/// One answer's id, time and model, which all its chunks repeat; makes its envelopes. OpenAI's legacy completions
/// stream the same object as they answer whole (<c>text_completion</c>); chat streams <c>chat.completion.chunk</c>s.
/// </summary>
internal sealed record CompletionHeader(string Id, long Created, string Model)
{
    public const string TextCompletion = "text_completion";
    public const string ChatCompletion = "chat.completion";
    public const string ChatCompletionChunk = "chat.completion.chunk";

    /// <param name="prefix">"cmpl" or "chatcmpl", as OpenAI's ids begin.</param>
    public static CompletionHeader New(string prefix, string model) => new($"{prefix}-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);

    public CompletionEnvelope<TChoice> Envelope<TChoice>(string type, IReadOnlyList<TChoice> choices, Usage? usage = null) =>
        new(Id, type, Created, Model, choices, usage);
}
