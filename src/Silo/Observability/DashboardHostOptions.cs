namespace OrleansQuant.Silo.Observability;

/// <summary>
/// The Orleans Dashboard's settings (configuration section "OrleansQuant:Dashboard"; <c>serve --dashboard [PORT]</c>
/// sets <see cref="Url"/>). Off unless a URL is given. The dashboard asks for no login, so the command line's bare port
/// listens on loopback only; give "0.0.0.0:PORT" to open it wider.
/// </summary>
internal sealed class DashboardHostOptions
{
    public const string Section = "OrleansQuant:Dashboard";

    /// <summary>The port <c>--dashboard</c> without a value takes: the dashboard's customary one.</summary>
    public const int DefaultPort = 8080;

    /// <summary>Where it listens: "127.0.0.1:8080" or "http://127.0.0.1:8080"; null or empty leaves it off.</summary>
    public string? Url { get; set; }

    /// <summary>The command line's value: a bare port listens on loopback, anything else is taken as an address.</summary>
    public static string UrlFor(string? value) =>
        string.IsNullOrWhiteSpace(value) ? $"127.0.0.1:{DefaultPort}"
        : int.TryParse(value, out int port) ? $"127.0.0.1:{port}"
        : value;
}
