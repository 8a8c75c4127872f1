using System.CommandLine;
using OrleansQuant.Client;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// The cluster commands' TLS options (on every subcommand): <c>--tls</c> alone for a silo that does not ask for client
/// certificates, <c>--tls-cert</c> (+ <c>--tls-key</c>, <c>--tls-password</c>) to present one, <c>--tls-ca</c> for the
/// certificate the silos' must chain to. The password may come from OrleansQuant__Client__Tls__Password instead.
/// </summary>
internal static class ClusterTlsOption
{
    private static readonly Option<bool> s_tls = new("--tls") { Description = "Connect to the gateway over TLS (as the silo's serve --tls-cert asks)", Recursive = true };
    private static readonly Option<string?> s_cert = new("--tls-cert") { Description = "Client certificate (.pfx, or PEM with --tls-key) to present; implies --tls", Recursive = true };
    private static readonly Option<string?> s_key = new("--tls-key") { Description = "PEM private key of --tls-cert", Recursive = true };
    private static readonly Option<string?> s_password = new("--tls-password") { Description = "Password of the .pfx or encrypted key (or OrleansQuant__Client__Tls__Password)", Recursive = true };
    private static readonly Option<string?> s_ca = new("--tls-ca") { Description = "Certificate the silo's must chain to (its CA, or its self-signed certificate); implies --tls", Recursive = true };

    public static void AddTo(Command command)
    {
        foreach (var option in new Option[] { s_tls, s_cert, s_key, s_password, s_ca })
        {
            command.Options.Add(option);
        }
    }

    public static ClusterTlsOptions Read(ParseResult parse) => new()
    {
        Enabled = parse.GetValue(s_tls),
        CertificatePath = parse.GetValue(s_cert),
        KeyPath = parse.GetValue(s_key),
        Password = parse.GetValue(s_password) ?? Environment.GetEnvironmentVariable("OrleansQuant__Client__Tls__Password"),
        TrustedCertificatePath = parse.GetValue(s_ca),
    };
}
