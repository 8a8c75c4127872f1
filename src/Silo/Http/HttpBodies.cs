using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>Reads a request body as a DTO and writes a response as JSON, turning what can go wrong into OpenAI errors.</summary>
internal static class HttpBodies
{
    /// <summary>
    /// The body as <typeparamref name="T"/>. Malformed JSON is a 400 with param "body"; a value of the wrong type a 400
    /// whose param is the field's JSON path (<c>temperature</c>, <c>messages[0].role</c>); a body over the limit a 413.
    /// </summary>
    public static async Task<T> Read<T>(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            throw TooLarge(context.Request.ContentLength.Value, maxBytes);
        }

        JsonDocument document;
        try
        {
            // Parsed first, so that malformed JSON is told apart from a value of the wrong type in a field.
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new OpenAiException(400, $"the body is not valid JSON: {e.Message}", "body");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body has no Content-Length to check first; Kestrel stops reading it at the limit.
            throw TooLarge(null, maxBytes);
        }

        using (document)
        {
            try
            {
                return document.Deserialize<T>(HttpJson.Options) ?? throw OpenAiException.BadRequest("body", "the body is JSON null; expected an object");
            }
            catch (JsonException e)
            {
                string field = e.Path is null or "$" ? "body" : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path;
                throw new OpenAiException(400, $"{field} has the wrong type: {e.Message}", field);
            }
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
