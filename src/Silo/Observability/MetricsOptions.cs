namespace OrleansQuant.Silo.Observability;

/// <summary>
/// The metrics-only web application's settings (configuration section "OrleansQuant:Metrics"; <c>serve --metrics</c>
/// sets <see cref="Url"/>): /metrics without the OpenAI-compatible API. Off unless a URL is given; with <c>--http</c>,
/// /metrics is served there as well.
/// </summary>
internal sealed class MetricsOptions
{
    public const string Section = "OrleansQuant:Metrics";

    /// <summary>Where it listens: "127.0.0.1:9464" or "http://127.0.0.1:9464"; null or empty leaves it off.</summary>
    public string? Url { get; set; }
}
