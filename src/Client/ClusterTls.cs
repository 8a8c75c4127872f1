using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace OrleansQuant.Client;

/// <summary>
/// Turns <see cref="ClusterTlsOptions"/> into Orleans' <see cref="TlsOptions"/>: loads the certificates (failing
/// naming the file and setting) and validates peers against the trusted certificate, for silos and clients alike.
/// </summary>
public static class ClusterTls
{
    /// <summary>Adds client TLS to an Orleans client's services when <paramref name="settings"/> asks for it; otherwise leaves connections plain.</summary>
    public static IServiceCollection AddClientTls(this IServiceCollection services, ClusterTlsOptions? settings)
    {
        if (settings is { ClientEnabled: true })
        {
            var tls = ClientOptions(settings);
            services.Configure<ClientConnectionOptions>(connections => connections.ConfigureConnection(c => c.UseClientTls(tls)));
        }

        return services;
    }

    /// <summary>A client's TLS settings: its own certificate when it has one, and the silo's certificate required and validated.</summary>
    public static TlsOptions ClientOptions(ClusterTlsOptions settings, string section = "OrleansQuant:Client:Tls")
    {
        var local = string.IsNullOrWhiteSpace(settings.CertificatePath) ? null : LoadCertificate(settings, section);
        var tls = new TlsOptions { LocalCertificate = local, RemoteCertificateMode = RemoteCertificateMode.RequireCertificate };
        var trusted = LoadTrusted(settings, section);
        if (trusted is not null)
        {
            tls.RemoteCertificateValidation = (certificate, _, _) => ChainsTo(certificate, trusted);
        }

        return tls;
    }

    /// <summary>
    /// A silo's TLS settings for one kind of connection. Between silos (<paramref name="gateway"/> false) both sides
    /// present the certificate and each must chain to the trusted certificate (the silo's own when none is given).
    /// At the gateway, clients present one only when <see cref="ClusterTlsOptions.RequireClientCertificate"/> asks:
    /// Orleans' server applies one certificate mode to every connection it accepts, so the two kinds get their own options.
    /// </summary>
    public static TlsOptions SiloOptions(X509Certificate2 certificate, ClusterTlsOptions settings, bool gateway, string section = "OrleansQuant:Tls")
    {
        var trusted = LoadTrusted(settings, section) ?? new X509Certificate2Collection(certificate);
        var tls = new TlsOptions
        {
            LocalCertificate = certificate,
            RemoteCertificateMode = !gateway || settings.RequireClientCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.NoCertificate,
        };
        tls.RemoteCertificateValidation = (remote, _, _) => ChainsTo(remote, trusted);
        return tls;
    }

    /// <summary>Loads <see cref="ClusterTlsOptions.CertificatePath"/> with its key; the error names the file and the setting.</summary>
    public static X509Certificate2 LoadCertificate(ClusterTlsOptions settings, string section = "OrleansQuant:Tls")
    {
        string path = settings.CertificatePath ?? throw new ArgumentException($"{section}:{nameof(ClusterTlsOptions.CertificatePath)} is not set; expected a .pfx or PEM certificate file");
        try
        {
            X509Certificate2 certificate;
            if (IsPem(path) || !string.IsNullOrWhiteSpace(settings.KeyPath))
            {
                using var pem = string.IsNullOrEmpty(settings.Password)
                    ? X509Certificate2.CreateFromPemFile(path, settings.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, settings.Password, settings.KeyPath);

                // A PEM key is ephemeral; SslStream needs one it can hand to the platform (Windows insists), so round-trip it.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, settings.Password);
            }

            if (!certificate.HasPrivateKey)
            {
                throw new ArgumentException($"{section}:{nameof(ClusterTlsOptions.CertificatePath)} '{path}' holds no private key; expected a .pfx with its key, or a PEM certificate with {nameof(ClusterTlsOptions.KeyPath)}");
            }

            return certificate;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException(
                $"{section}:{nameof(ClusterTlsOptions.CertificatePath)} '{path}'{(settings.KeyPath is null ? "" : $" with key '{settings.KeyPath}'")} could not be loaded " +
                $"({e.Message.TrimEnd('.')}); expected a .pfx/.p12 (and its password) or a PEM certificate and key", e);
        }
    }

    private static X509Certificate2Collection? LoadTrusted(ClusterTlsOptions settings, string section)
    {
        string? path = settings.TrustedCertificatePath;
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        try
        {
            var trusted = new X509Certificate2Collection();
            if (IsPem(path))
            {
                trusted.ImportFromPemFile(path);
            }
            else
            {
                trusted.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }

            return trusted.Count > 0 ? trusted : throw new CryptographicException("it holds no certificate");
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{section}:{nameof(ClusterTlsOptions.TrustedCertificatePath)} '{path}' could not be loaded ({e.Message.TrimEnd('.')}); expected a PEM or DER certificate", e);
        }
    }

    /// <summary>
    /// Whether <paramref name="remote"/> chains to one of <paramref name="trusted"/> and nothing else: the system's roots
    /// play no part, so a certificate some public CA issued to anyone does not get into the cluster.
    /// </summary>
    private static bool ChainsTo(X509Certificate2? remote, X509Certificate2Collection trusted)
    {
        if (remote is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    private static bool IsPem(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pem" or ".crt" or ".cer" && File.Exists(path) && File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal);
}
