using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansQuant.Silo.Tests.Tls;

/// <summary>A self-signed certificate for loopback, written as a password-protected .pfx and as a PEM certificate to trust.</summary>
public sealed class SelfSignedCertificate : IDisposable
{
    public const string Password = "test-password";

    public SelfSignedCertificate(string name)
    {
        Directory = Path.Combine(Path.GetTempPath(), "oq-tls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Thumbprint = certificate.Thumbprint;
        PfxPath = Path.Combine(Directory, name + ".pfx");
        File.WriteAllBytes(PfxPath, certificate.Export(X509ContentType.Pkcs12, Password));
        CertificatePemPath = Path.Combine(Directory, name + ".crt");
        File.WriteAllText(CertificatePemPath, certificate.ExportCertificatePem());
        KeyPemPath = Path.Combine(Directory, name + ".key");
        File.WriteAllText(KeyPemPath, key.ExportPkcs8PrivateKeyPem());
    }

    public string Directory { get; }

    public string PfxPath { get; }

    public string CertificatePemPath { get; }

    /// <summary>The private key, unencrypted PEM (PKCS#8), for <c>--tls-cert CRT --tls-key KEY</c>.</summary>
    public string KeyPemPath { get; }

    public string Thumbprint { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
