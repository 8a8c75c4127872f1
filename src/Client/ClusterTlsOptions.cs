namespace OrleansQuant.Client;

/// <summary>
/// TLS for the cluster's connections: silo to silo and client to gateway (Microsoft.Orleans.Connections.Security).
/// Off by default. A silo binds it from "OrleansQuant:Tls" (<c>serve --tls-cert</c>, …) and turns it on with a
/// certificate; a client binds it from "OrleansQuant:Client:Tls" (<c>cluster … --tls</c>, …) and turns it on with
/// <see cref="Enabled"/> or any path. Both sides of a connection must agree: a plain client cannot talk to a TLS silo.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>TLS without a certificate of one's own, for a client of a silo that does not require client certificates.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// This side's certificate: a PKCS#12 file (.pfx/.p12, with <see cref="Password"/>), or a PEM certificate whose
    /// key is in <see cref="KeyPath"/> (or in the same file). Required on a silo; on a client it is the client certificate.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a .pfx, or of an encrypted PEM key (environment OrleansQuant__Tls__Password keeps it off the command line).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The certificate (PEM or DER; a bundle may hold several) that peers' certificates must chain to: the cluster's CA,
    /// or a shared self-signed certificate. Host names are not checked against it: silos dial each other by address.
    /// When empty, a silo trusts exactly its own certificate (every silo sharing one self-signed certificate works
    /// as is) and a client trusts the system's roots with the usual host-name check.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>On a silo: clients must present a certificate that chains to the trusted certificate (mutual TLS).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Whether a client uses TLS: asked for, or implied by a certificate to present or to trust.</summary>
    public bool ClientEnabled => Enabled || !string.IsNullOrWhiteSpace(CertificatePath) || !string.IsNullOrWhiteSpace(TrustedCertificatePath);
}
