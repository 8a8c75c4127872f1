using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>GET /v1/models: the served models that are loaded, with vLLM's <c>max_model_len</c>.</summary>
internal sealed record ModelList([property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data)
{
    [JsonPropertyName("object")] public string Object => "list";
}

internal sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("max_model_len")] int MaxModelLen)
{
    [JsonPropertyName("object")] public string Object => "model";

    [JsonPropertyName("owned_by")] public string OwnedBy => "orleansquant";

    [JsonPropertyName("root")] public string Root => Id;
}
