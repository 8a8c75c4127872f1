using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>The body of <c>POST /admin/v1/models/{model}/layers/{layer}/requantize</c>: the recipe the layer is rebuilt with.</summary>
internal sealed record AdminRequantizeRequest
{
    [JsonPropertyName("recipe")]
    public string? Recipe { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }
}

/// <summary>
/// The body of <c>POST /admin/v1/models/{model}/load</c>: a checkpoint directory every silo can read, or a demo model
/// name, as <c>cluster load --model</c> takes it.
/// </summary>
internal sealed record AdminLoadRequest
{
    [JsonPropertyName("checkpoint")]
    public string? Checkpoint { get; init; }

    /// <summary>What full-precision weights are stored as: auto, float32 or bfloat16.</summary>
    [JsonPropertyName("dtype")]
    public string Dtype { get; init; } = "auto";

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }
}

/// <summary>The body of <c>POST /admin/v1/models/{model}/save</c>: the directory every silo writes its layers' shards to.</summary>
internal sealed record AdminSaveRequest
{
    [JsonPropertyName("directory")]
    public string? Directory { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }
}
