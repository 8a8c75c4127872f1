using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// With API keys configured, /v1 asks for <c>Authorization: Bearer KEY</c> (401 otherwise). As in vLLM, the tokenizer
/// endpoints stay open: they tell nothing but how the model reads text.
/// </summary>
internal static class ApiKeyCheck
{
    public static bool Required(HttpContext context, IReadOnlyList<string> keys) =>
        keys.Count > 0 && context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal);

    public static void Check(HttpContext context, IReadOnlyList<string> keys)
    {
        string header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            throw new OpenAiException(StatusCodes.Status401Unauthorized,
                "no API key given; expected an 'Authorization: Bearer KEY' header with a key this server is configured with", code: "invalid_api_key");
        }

        var given = Encoding.UTF8.GetBytes(header[bearer.Length..].Trim());

        // Compared in constant time, so response timing does not reveal how much of a key was right.
        if (!keys.Any(key => CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key))))
        {
            throw new OpenAiException(StatusCodes.Status401Unauthorized, "Incorrect API key provided", code: "invalid_api_key");
        }
    }
}
