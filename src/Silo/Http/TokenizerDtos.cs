using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// vLLM's tokenizer endpoints, which lm-evaluation-harness asks before it sends token ids: POST /tokenize (a text
/// prompt, or chat messages rendered with the template), POST /detokenize, GET /tokenizer_info.
/// </summary>
internal sealed record TokenizeRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("messages")] List<ChatMessageDto>? Messages,
    [property: JsonPropertyName("add_special_tokens")] bool? AddSpecialTokens);

internal sealed record TokenizeResponse(
    [property: JsonPropertyName("tokens")] int[] Tokens,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("max_model_len")] int MaxModelLen);

internal sealed record DetokenizeRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("tokens")] System.Text.Json.JsonElement? Tokens);

internal sealed record DetokenizeResponse([property: JsonPropertyName("prompt")] string Prompt);

internal sealed record TokenizerInfoResponse(
    [property: JsonPropertyName("bos_token")] string? BosToken,
    [property: JsonPropertyName("eos_token")] string? EosToken,
    [property: JsonPropertyName("chat_template")] string? ChatTemplate,
    [property: JsonPropertyName("model_max_length")] int ModelMaxLength,
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("tokenizer_class")] string TokenizerClass);
