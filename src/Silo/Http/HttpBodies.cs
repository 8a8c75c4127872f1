using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>Reads a request body as a DTO and writes a response as JSON, turning what can go wrong into OpenAI errors.</summary>
internal static class HttpBodies
{
    /// <summary>
    /// The body as <typeparamref name="T"/>. Malformed JSON or a value of the wrong type is a 400 whose param is the
    /// field's JSON path (<c>temperature</c>, <c>messages[0].role</c>); a body over the limit is a 413.
    /// </summary>
    public static async Task<T> Read<T>(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            throw TooLarge(context.Request.ContentLength.Value, maxBytes);
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, HttpJson.Options, context.RequestAborted)
                ?? throw OpenAiException.BadRequest("body", "the body is JSON null; expected an object");
        }
        catch (JsonException e)
        {
            string? field = e.Path is null or "$" ? null : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path;
            throw new OpenAiException(400, $"the body is not a valid request: {e.Message}", field ?? "body");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body has no Content-Length to check first; Kestrel stops reading it at the limit.
            throw TooLarge(null, maxBytes);
        }
    }

    public static async Task Write<T>(HttpResponse response, T value, int status = StatusCodes.Status200OK)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, value, HttpJson.Options, response.HttpContext.RequestAborted);
    }

    private static OpenAiException TooLarge(long? length, long maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge,
        $"the request body {(length is long l ? $"is {l} bytes" : "is larger than the limit")}; expected at most {maxBytes} bytes (OrleansQuant:Http:MaxBodyBytes)",
        "body");
}
