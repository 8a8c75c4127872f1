namespace OrleansQuant.Client;

/// <summary>
/// How <see cref="OrleansQuantServiceCollectionExtensions.AddOrleansQuantClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{OrleansQuantClientOptions}?)"/>
/// reaches the cluster and which model its <see cref="Microsoft.Extensions.AI.IChatClient"/> serves. Bound from the
/// configuration section <see cref="Section"/> ("OrleansQuant:Client"; environment: <c>OrleansQuant__Client__Gateways__0</c>, …).
/// </summary>
public sealed class OrleansQuantClientOptions
{
    public const string Section = "OrleansQuant:Client";

    /// <summary>
    /// The silos' gateways, "host:port" each ("127.0.0.1:30000", "node-2:30000"); the client spreads its connections
    /// over them. Empty means one silo on this machine at port 30000, as <c>orleansquant serve</c> runs by default.
    /// </summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>
    /// Where the cluster's membership lives, for a cluster of several silos: a Redis endpoint "HOST:PORT" (or a
    /// StackExchange.Redis connection string), as its silos were given with <c>serve --redis</c>. The client then finds
    /// the live gateways there, and <see cref="Gateways"/> is not used. Empty means the static <see cref="Gateways"/>.
    /// Read when the client is registered (from the builder's configuration or the registration's own settings), as it
    /// decides which services are registered.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The cluster's id; a gateway refuses a client whose id differs. "default" is what <c>orleansquant serve</c> uses (Orleans 10's localhost clustering).</summary>
    public string ClusterId { get; set; } = "default";

    /// <summary>The service's id; "default" is what <c>orleansquant serve</c> uses.</summary>
    public string ServiceId { get; set; } = "default";

    /// <summary>The model (its name in the cluster, as loaded with <c>cluster load --name</c>) the registered <see cref="Microsoft.Extensions.AI.IChatClient"/> talks to.</summary>
    public string DefaultModel { get; set; } = "default";

    /// <summary>
    /// How long starting the host may wait for a gateway to answer before it fails naming the gateways: Orleans'
    /// client would otherwise retry for ever.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the membership is in Redis.</summary>
    internal bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);

    /// <summary>Where the client looks for gateways, in words, for errors.</summary>
    internal string GatewaySource => UsesRedis
        ? $"the Redis membership at {Redis} ({Section}:{nameof(Redis)})"
        : $"gateway {string.Join(", ", GatewaysOrDefault)}";

    /// <summary>
    /// TLS to the gateways (section "OrleansQuant:Client:Tls"): off unless <see cref="ClusterTlsOptions.Enabled"/> or a
    /// certificate path is set; must match the silos' <c>serve --tls-cert</c>.
    /// </summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary>How a generation whose stream broke with a silo is resumed (section "OrleansQuant:Client:Resume"; <c>MaxResumes</c> 0 turns it off).</summary>
    public GenerationResumeOptions Resume { get; set; } = new();

    /// <summary>What <see cref="Gateways"/> comes to, with its default.</summary>
    internal IReadOnlyList<string> GatewaysOrDefault => Gateways.Count > 0 ? Gateways : ["127.0.0.1:30000"];
}
