using System.Text.Json.Serialization;

namespace OrleansQuant.Silo.Http;

/// <summary>OpenAI's <c>stream_options</c>: with <c>include_usage</c> a last chunk carries the usage and no choices.</summary>
internal sealed record StreamOptions([property: JsonPropertyName("include_usage")] bool? IncludeUsage);
