namespace OrleansQuant.Silo.Http;

/// <summary>
/// A request the API refuses, as OpenAI reports it: the HTTP status, the error type, and the request field at fault
/// (<c>param</c>), so that a client can tell which of its fields to fix.
/// </summary>
internal sealed class OpenAiException(int status, string message, string? param = null, string type = "invalid_request_error", string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string? Param { get; } = param;

    public string Type { get; } = type;

    public string? Code { get; } = code;

    public OpenAiError ToError() => new(new OpenAiErrorBody(Message, Type, Param, Code ?? Status.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public static OpenAiException BadRequest(string param, string message) => new(400, message, param);
}
