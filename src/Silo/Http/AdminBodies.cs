using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// Admin request bodies: a JSON object (<see cref="HttpBodies.Read{T}"/>), or — with a YAML or plain-text content type —
/// the recipe file itself (<c>curl --data-binary @recipe.yaml -H 'Content-Type: application/yaml'</c>); no body at all
/// means every default. Whether to stream comes from <c>?stream=</c> or the body's "stream" field, streaming unless
/// either says false.
/// </summary>
internal static class AdminBodies
{
    private static readonly string[] s_recipeTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"];

    public static async Task<T> Read<T>(HttpContext context, long maxBytes, Func<string, T>? fromRecipe = null)
        where T : new()
    {
        var request = context.Request;
        if (request.ContentLength == 0 || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return new T();
        }

        string mediaType = (request.ContentType ?? "").Split(';')[0].Trim();
        if (fromRecipe is not null && s_recipeTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            // Kestrel's MaxRequestBodySize stops a larger body; a stated length over the limit is refused before reading.
            if (request.ContentLength > maxBytes)
            {
                throw new OpenAiException(StatusCodes.Status413PayloadTooLarge,
                    $"the recipe is {request.ContentLength} bytes; expected at most {maxBytes} bytes (OrleansQuant:Http:MaxBodyBytes)", "body");
            }

            using var reader = new StreamReader(request.Body);
            return fromRecipe(await reader.ReadToEndAsync(context.RequestAborted));
        }

        return await HttpBodies.Read<T>(context, maxBytes);
    }

    /// <summary>False when <c>?stream=false</c> or the body's <paramref name="field"/> is false; a query value that is no boolean is a 400.</summary>
    public static bool Streams(HttpContext context, bool? field)
    {
        string? query = context.Request.Query["stream"].FirstOrDefault();
        if (query is null)
        {
            return field ?? true;
        }

        return bool.TryParse(query, out bool stream)
            ? stream && field != false
            : throw OpenAiException.BadRequest("stream", $"?stream={query}; expected true or false");
    }

    /// <summary>The query's <c>from</c>: the first event of a job to send again (0 when not given).</summary>
    public static int From(HttpContext context)
    {
        string? query = context.Request.Query["from"].FirstOrDefault();
        return query is null ? 0
            : int.TryParse(query, out int from) && from >= 0 ? from
            : throw OpenAiException.BadRequest("from", $"?from={query}; expected an event's sequence number, 0 or more");
    }
}
