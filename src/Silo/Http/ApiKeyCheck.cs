using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// Who may call what. With API keys configured, /v1 asks for <c>Authorization: Bearer KEY</c> (401 otherwise); an admin
/// key opens /v1 too (vLLM has one key for everything, and an operator should not need two). /admin always asks for an
/// admin key: none is 401, an API key is 403, since it is a real key that lacks the right. As in vLLM, the tokenizer
/// endpoints stay open: they tell nothing but how the model reads text.
/// </summary>
internal static class ApiKeyCheck
{
    private const string Bearer = "Bearer ";

    /// <summary>Throws an <see cref="OpenAiException"/> (401 or 403) unless the request carries a key its path asks for.</summary>
    public static void Check(HttpContext context, HttpApiOptions options)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments(AdminApi.Prefix, StringComparison.Ordinal))
        {
            // Without admin keys the admin routes are not mapped: the request goes on to its 404.
            if (options.AdminEnabled)
            {
                CheckAdmin(context, options);
            }

            return;
        }

        if (Keys(options.ApiKeys).Count > 0 && path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            byte[] given = Given(context, "no API key given; expected an 'Authorization: Bearer KEY' header with a key this server is configured with");
            if (!Matches(given, options.ApiKeys) && !Matches(given, options.AdminKeys))
            {
                throw new OpenAiException(StatusCodes.Status401Unauthorized, "Incorrect API key provided", code: "invalid_api_key");
            }
        }
    }

    private static void CheckAdmin(HttpContext context, HttpApiOptions options)
    {
        byte[] given = Given(context, "no admin key given; expected an 'Authorization: Bearer KEY' header with a key given to serve --admin-key");
        if (Matches(given, options.AdminKeys))
        {
            return;
        }

        if (Matches(given, options.ApiKeys))
        {
            throw new OpenAiException(StatusCodes.Status403Forbidden,
                "this API key opens /v1 only; /admin expects an admin key (serve --admin-key, OrleansQuant:Http:AdminKeys)", code: "insufficient_permissions");
        }

        throw new OpenAiException(StatusCodes.Status401Unauthorized, "Incorrect admin key provided", code: "invalid_api_key");
    }

    private static byte[] Given(HttpContext context, string missing)
    {
        string header = context.Request.Headers.Authorization.ToString();
        string key = header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : "";
        return key.Length > 0 ? Encoding.UTF8.GetBytes(key) : throw new OpenAiException(StatusCodes.Status401Unauthorized, missing, code: "invalid_api_key");
    }

    // Compared in constant time, so response timing does not reveal how much of a key was right. An empty key (an
    // unset option bound from configuration) is never a key.
    private static bool Matches(byte[] given, IReadOnlyList<string> keys) =>
        Keys(keys).Any(key => CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key)));

    private static List<string> Keys(IReadOnlyList<string> keys) => keys.Where(key => !string.IsNullOrEmpty(key)).ToList();
}
