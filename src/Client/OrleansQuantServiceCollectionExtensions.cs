using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace OrleansQuant.Client;

/// <summary>
/// Registers the SDK in a .NET host the way <c>UseOrleansClient</c> registers Orleans' client: an Orleans client
/// for the cluster's gateways (from <see cref="OrleansQuantClientOptions"/>, section "OrleansQuant:Client"), then
/// <see cref="OrleansQuantClient"/> and, for <see cref="OrleansQuantClientOptions.DefaultModel"/>, an
/// <see cref="IChatClient"/>, as singletons. The host's start connects (or fails within the connect timeout).
/// </summary>
public static class OrleansQuantServiceCollectionExtensions
{
    /// <param name="configure">settings applied after the configuration section's, e.g. the gateways from a command line.</param>
    public static IHostApplicationBuilder AddOrleansQuantClient(this IHostApplicationBuilder builder, Action<OrleansQuantClientOptions>? configure = null)
    {
        builder.Services.AddOrleansQuantClient(configure, builder.Configuration);
        return builder;
    }

    /// <inheritdoc cref="AddOrleansQuantClient(IHostApplicationBuilder, Action{OrleansQuantClientOptions}?)"/>
    /// <remarks>
    /// The section is read from the container's <see cref="IConfiguration"/> when there is one; except
    /// <see cref="OrleansQuantClientOptions.Redis"/>, which picks the services to register and so is read now, from a
    /// configuration registered as an instance and from <paramref name="configure"/>.
    /// </remarks>
    public static IServiceCollection AddOrleansQuantClient(this IServiceCollection services, Action<OrleansQuantClientOptions>? configure = null) =>
        services.AddOrleansQuantClient(configure, services.LastOrDefault(d => d.ServiceType == typeof(IConfiguration))?.ImplementationInstance as IConfiguration);

    private static IServiceCollection AddOrleansQuantClient(this IServiceCollection services, Action<OrleansQuantClientOptions>? configure, IConfiguration? configuration)
    {
        var options = services.AddOptions<OrleansQuantClientOptions>()
            .Configure<IServiceProvider>((o, provider) => provider.GetService<IConfiguration>()?.GetSection(OrleansQuantClientOptions.Section).Bind(o));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.ConnectTimeout > TimeSpan.Zero,
            $"{OrleansQuantClientOptions.Section}:{nameof(OrleansQuantClientOptions.ConnectTimeout)} must be a positive time span (e.g. 00:00:10)");
        options.Validate(o => o.Resume.MaxResumes >= 0 && o.Resume.Window > TimeSpan.Zero && o.Resume.FirstDelay >= TimeSpan.Zero && o.Resume.MaxDelay >= o.Resume.FirstDelay,
            $"{OrleansQuantClientOptions.Section}:{nameof(OrleansQuantClientOptions.Resume)}: MaxResumes must be ≥ 0, Window positive, FirstDelay ≥ 0 and MaxDelay ≥ FirstDelay");
        options.Validate(o => !string.IsNullOrWhiteSpace(o.DefaultModel),
            $"{OrleansQuantClientOptions.Section}:{nameof(OrleansQuantClientOptions.DefaultModel)} must name a model (e.g. default)");

        services.AddOrleansClient(client =>
        {
            if (RedisSetting(configuration, configure) is { } redis)
            {
                client.UseRedisClustering(o => RedisMembership.Configure(o, redis, $"{OrleansQuantClientOptions.Section}:{nameof(OrleansQuantClientOptions.Redis)}"));
            }
            else
            {
                // Read when the client starts, so configuration and 'configure' both count.
                client.UseStaticClustering(gateways => gateways.Configure<IOptions<OrleansQuantClientOptions>>((g, o) =>
                    g.Gateways = o.Value.GatewaysOrDefault.Select(e => GatewayEndpoints.Parse(e).ToGatewayUri()).ToList()));
            }

            client.Services.AddOptions<ClusterOptions>().Configure<IOptions<OrleansQuantClientOptions>>((cluster, o) =>
            {
                cluster.ClusterId = o.Value.ClusterId;
                cluster.ServiceId = o.Value.ServiceId;
            });
            client.Services.AddSingleton<IClientConnectionRetryFilter, ConnectTimeoutRetryFilter>();
            client.Services.TryAddSingleton<GatewayLoss>();
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(provider => provider.GetRequiredService<GatewayLoss>());
            client.Services.AddOptions<ClientConnectionOptions>().Configure<IOptions<OrleansQuantClientOptions>>((connections, o) =>
            {
                if (o.Value.Tls.ClientEnabled)
                {
                    var tls = ClusterTls.ClientOptions(o.Value.Tls);
                    connections.ConfigureConnection(c => c.UseClientTls(tls));
                }
            });
        });

        services.TryAddSingleton(provider => new OrleansQuantClient(
            provider.GetRequiredService<IClusterClient>(), provider.GetRequiredService<ILogger<OrleansQuantClient>>(),
            provider.GetRequiredService<IOptions<OrleansQuantClientOptions>>().Value.Resume, provider.GetService<GatewayLoss>()));
        services.TryAddSingleton<IChatClient>(provider => provider.GetRequiredService<OrleansQuantClient>()
            .AsChatClient(provider.GetRequiredService<IOptions<OrleansQuantClientOptions>>().Value.DefaultModel));
        return services;
    }

    /// <summary>The Redis setting as the options will have it: the configuration's section, then <paramref name="configure"/>.</summary>
    private static string? RedisSetting(IConfiguration? configuration, Action<OrleansQuantClientOptions>? configure)
    {
        var probe = new OrleansQuantClientOptions();
        configuration?.GetSection(OrleansQuantClientOptions.Section).Bind(probe);
        configure?.Invoke(probe);
        return probe.UsesRedis ? probe.Redis : null;
    }
}
