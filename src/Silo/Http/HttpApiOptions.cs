namespace OrleansQuant.Silo.Http;

/// <summary>
/// The OpenAI-compatible HTTP API's settings (configuration section "OrleansQuant:Http"; <c>serve --http</c> sets
/// <see cref="Url"/>). Off unless a URL is given.
/// </summary>
internal sealed class HttpApiOptions
{
    public const string Section = "OrleansQuant:Http";

    /// <summary>Where Kestrel listens: "127.0.0.1:8000" or "http://127.0.0.1:8000"; null or empty leaves the API off.</summary>
    public string? Url { get; set; }

    /// <summary>Bearer keys accepted on /v1 (vLLM's --api-key); none configured means no key is asked for.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// Bearer keys for /admin (quantize, re-quantize, load, save, jobs): <c>serve --admin-key</c>. None configured
    /// leaves the admin routes unmapped (404), so a server started without one cannot be re-quantized over HTTP. An
    /// admin key also opens /v1, as vLLM has one key for everything; an <see cref="ApiKeys"/> key never opens /admin.
    /// </summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Whether the admin routes are mapped: only with an admin key to guard them.</summary>
    public bool AdminEnabled => AdminKeys.Any(key => !string.IsNullOrEmpty(key));

    /// <summary>A request body larger than this is refused with 413 before it is parsed.</summary>
    public long MaxBodyBytes { get; set; } = 8 << 20;

    /// <summary>Generation requests (completions, chat) passed to the model at once; more wait (<see cref="RequestQueue"/>).</summary>
    public int MaxRunningRequests { get; set; } = 256;

    /// <summary>Generation requests that may wait for a turn; one more is refused with 429.</summary>
    public int MaxWaitingRequests { get; set; } = 1024;

    /// <summary>The model grains served, by name; a request naming another model gets 404. The first is the default.</summary>
    /// <remarks>Empty here (the configuration binder appends to a list, it does not replace it); see <see cref="ServedNames"/>.</remarks>
    public List<string> Models { get; set; } = [];

    /// <summary><see cref="Models"/>, or "default" (the name <c>serve --load</c> loads under) when none is configured.</summary>
    public IReadOnlyList<string> ServedNames => Models.Count > 0 ? Models : ["default"];
}
