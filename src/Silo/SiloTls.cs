using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansQuant.Client;

namespace OrleansQuant.Silo;

/// <summary>
/// TLS for a silo's connections (section "OrleansQuant:Tls", <c>serve --tls-cert</c>): silo to silo in both
/// directions and clients to its gateway. Off without a certificate. The certificate is loaded while the host is
/// built, so a wrong path or password stops <c>serve</c> at once, naming the file, rather than at the first connection.
/// </summary>
internal static class SiloTls
{
    public const string Section = "OrleansQuant:Tls";

    /// <summary>The settings as configured; null when TLS is off.</summary>
    public static ClusterTlsOptions? Settings(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ClusterTlsOptions>();
        return string.IsNullOrWhiteSpace(settings?.CertificatePath) ? null : settings;
    }

    public static ISiloBuilder UseConfiguredTls(this ISiloBuilder orleans, IConfiguration configuration)
    {
        if (Settings(configuration) is { } settings)
        {
            var certificate = ClusterTls.LoadCertificate(settings, Section);
            var silos = ClusterTls.SiloOptions(certificate, settings, gateway: false, Section);
            var gateway = ClusterTls.SiloOptions(certificate, settings, gateway: true, Section);
            orleans.Services.Configure<SiloConnectionOptions>(connections =>
            {
                connections.ConfigureSiloInboundConnection(c => c.UseServerTls(silos));
                connections.ConfigureSiloOutboundConnection(c => c.UseClientTls(silos));
                connections.ConfigureGatewayInboundConnection(c => c.UseServerTls(gateway));
            });
        }

        return orleans;
    }

    /// <summary>One line for the console: whether TLS is on, with what, and whether clients need certificates.</summary>
    public static string Describe(IConfiguration configuration)
    {
        if (Settings(configuration) is not { } settings)
        {
            return "TLS off: silo and client connections are plain TCP (serve --tls-cert turns it on)";
        }

        using var certificate = ClusterTls.LoadCertificate(settings, Section);
        string trust = string.IsNullOrWhiteSpace(settings.TrustedCertificatePath) ? "this certificate" : $"'{settings.TrustedCertificatePath}'";
        return $"TLS on: certificate {certificate.Subject} ({certificate.Thumbprint}); peers must chain to {trust}; " +
            (settings.RequireClientCertificate ? "clients must present a certificate" : "client certificates not required");
    }
}
