using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// How the admin API writes the cluster's own records (<see cref="Contracts.ModelStatus"/>, jobs): snake_case names and
/// enums as lower-case words, as the OpenAI routes write theirs, without a copy of every contract as an HTTP type.
/// The result is a <see cref="JsonElement"/>, which the shared writers pass through as it is.
/// </summary>
internal static class AdminJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static JsonElement Element<T>(T value) => JsonSerializer.SerializeToElement(value, Options);

    public static Task Write<T>(HttpResponse response, T value, int status = StatusCodes.Status200OK) =>
        HttpBodies.Write(response, Element(value), status);
}
