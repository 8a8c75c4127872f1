using OrleansQuant.Silo.Errors;
using OrleansQuant.Silo.Tests.Membership;
using Xunit.Abstractions;

namespace OrleansQuant.Silo.Tests.Tls;

/// <summary>
/// TLS end to end as an operator uses it: a real <c>orleansquant serve --tls-cert CRT --tls-key KEY</c> process with a
/// self-signed PEM certificate made here, and the <c>cluster</c> commands as clients. <see cref="TlsTests"/> checks the
/// same options in process through the SDK; this checks the command lines, and mutual TLS.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class TlsCliTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_with_a_pem_certificate_serves_cluster_load_and_generate_over_tls_and_refuses_a_client_without_tls()
    {
        using var certificate = new SelfSignedCertificate("oq-cli-silo");
        using var silo = await Serve(["--tls-cert", certificate.CertificatePemPath, "--tls-key", certificate.KeyPemPath]);
        string[] tls = ["--tls-ca", certificate.CertificatePemPath];

        await LoadAndGenerate(silo, tls);

        var plain = await Cluster(silo, "status", [], connectTimeout: 3);
        Assert.Equal(ExpectedError.Failed, plain.ExitCode);
        Assert.Contains("TLS off here", plain.Error);
    }

    [Fact]
    public async Task With_require_client_cert_a_client_without_the_right_certificate_is_refused_and_one_with_it_generates()
    {
        using var certificate = new SelfSignedCertificate("oq-cli-mtls");
        using var stranger = new SelfSignedCertificate("oq-cli-stranger");
        using var silo = await Serve(["--tls-cert", certificate.CertificatePemPath, "--tls-key", certificate.KeyPemPath, "--tls-require-client-cert"]);

        // TLS that trusts the silo, but no client certificate: the silo ends the handshake.
        var anonymous = await Cluster(silo, "status", ["--tls-ca", certificate.CertificatePemPath], connectTimeout: 3);
        Assert.Equal(ExpectedError.Failed, anonymous.ExitCode);
        Assert.Contains("TLS on here", anonymous.Error);

        // A certificate the silo does not trust (it chains to neither the silo's --tls-ca nor its own certificate).
        var wrong = await Cluster(silo, "status", ["--tls-cert", stranger.CertificatePemPath, "--tls-key", stranger.KeyPemPath, "--tls-ca", certificate.CertificatePemPath],
            connectTimeout: 3);
        Assert.Equal(ExpectedError.Failed, wrong.ExitCode);

        // The right certificate: mutual TLS.
        await LoadAndGenerate(silo, ["--tls-cert", certificate.CertificatePemPath, "--tls-key", certificate.KeyPemPath, "--tls-ca", certificate.CertificatePemPath]);
    }

    private async Task LoadAndGenerate(SiloProcess silo, string[] tls)
    {
        var load = await Cluster(silo, "load", ["--model", "tiny", .. tls], connectTimeout: 20);
        Assert.True(load.ExitCode == 0, $"cluster load exited {load.ExitCode}: {load.Error}\n{silo.Output}");
        var generate = await Cluster(silo, "generate", ["--prompt", "Hello", "--max-tokens", "5", .. tls], connectTimeout: 20);
        Assert.True(generate.ExitCode == 0, $"cluster generate exited {generate.ExitCode}: {generate.Error}");
        Assert.NotEmpty(generate.Output.Trim());
        output.WriteLine($"generated over TLS: {generate.Output.Trim()}");
    }

    private static Task<CliRun> Cluster(SiloProcess silo, string command, string[] arguments, double connectTimeout) =>
        CliRun.Of(["cluster", command, "--gateway", $"{silo.GatewayPort}", "--connect-timeout", $"{connectTimeout}", .. arguments]);

    /// <summary>One TLS silo of localhost clustering (its own primary), started and waited for; killed on dispose.</summary>
    private static async Task<SiloProcess> Serve(string[] tls)
    {
        var silo = SiloProcess.Serve(tls, FreePort.Next(), FreePort.Next());
        try
        {
            await silo.WaitStartedAsync(s_start);
            return silo;
        }
        catch
        {
            silo.Dispose();
            throw;
        }
    }
}
