using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Logging;
using OrleansQuant.Silo.Tests.Sdk;

namespace OrleansQuant.Silo.Tests.Tls;

/// <summary>A silo as <c>serve --tls-cert silo.pfx --tls-password …</c> builds it, on loopback, serving the tiny demo model.</summary>
public sealed class TlsSiloFixture : IAsyncLifetime
{
    public const string Model = "tiny";

    private IHost? _silo;

    public SelfSignedCertificate Certificate { get; } = new("orleansquant-test-silo");

    public int SiloPort { get; } = FreePort.Next();

    public int GatewayPort { get; } = FreePort.Next();

    public IClusterClient Cluster => _silo!.Services.GetRequiredService<IClusterClient>();

    public async Task InitializeAsync()
    {
        _silo = Build(SiloPort, GatewayPort, SiloPort);
        await _silo.StartAsync();
        await new OrleansQuantClient(Cluster).LoadAsync(Model, "tiny");
    }

    /// <summary>A TLS silo with this fixture's certificate; <paramref name="primary"/> is the first silo's port.</summary>
    public IHost Build(int silo, int gateway, int primary) => SiloHostFactory.Build(new Dictionary<string, string?>
    {
        ["Silo:SiloPort"] = silo.ToString(),
        ["Silo:PrimarySiloPort"] = primary.ToString(),
        ["Silo:GatewayPort"] = gateway.ToString(),
        ["OrleansQuant:Devices"] = "cpu:1",
        ["OrleansQuant:Tls:CertificatePath"] = Certificate.PfxPath,
        ["OrleansQuant:Tls:Password"] = SelfSignedCertificate.Password,
    }, CliLogging.For(Cli.Create().Parse(["serve"])));

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.StopAsync();
            _silo.Dispose();
        }

        Certificate.Dispose();
    }
}

/// <summary>
/// TLS between silos and from clients: a client with TLS that trusts the silo's certificate connects and generates;
/// a client without TLS fails within its connect timeout, saying TLS is off on its side; a second TLS silo joins the first.
/// </summary>
public sealed class TlsTests(TlsSiloFixture fixture) : IClassFixture<TlsSiloFixture>
{
    [Fact]
    public async Task AClientWithTlsTrustingTheSiloCertificateGetsStatusAndGenerates()
    {
        var settings = SdkClientHost.Settings($"127.0.0.1:{fixture.GatewayPort}", TimeSpan.FromSeconds(10));
        settings["OrleansQuant:Client:DefaultModel"] = TlsSiloFixture.Model;
        settings["OrleansQuant:Client:Tls:TrustedCertificatePath"] = fixture.Certificate.CertificatePemPath;
        using var host = SdkClientHost.Builder(settings).Build();
        await host.StartAsync();
        var sdk = host.Services.GetRequiredService<OrleansQuantClient>();
        // Loaded through this TLS client: the fixture's load may be gone when another test's second silo joined and
        // left (the model grain's directory entry can leave with it, and memory grain state with that silo).
        await sdk.LoadAsync(TlsSiloFixture.Model, "tiny");

        var status = await sdk.StatusAsync(TlsSiloFixture.Model);
        Assert.Equal(TlsSiloFixture.Model, status.Model);
        Assert.Equal(4, status.Layers.Count);

        var tokens = new List<GeneratedToken>();
        await foreach (var token in sdk.GenerateAsync(TlsSiloFixture.Model, new GenerateRequest(PromptIds: [0, 86, 106, 103], MaxTokens: 5)))
        {
            tokens.Add(token);
        }

        Assert.Equal(5, tokens.Count);
        Assert.Equal("length", tokens[^1].FinishReason);
        await host.StopAsync();
    }

    [Fact]
    public async Task AClientWithoutTlsFailsWithinItsConnectTimeoutSayingTlsIsOffHere()
    {
        using var host = SdkClientHost.Builder(SdkClientHost.Settings($"127.0.0.1:{fixture.GatewayPort}", TimeSpan.FromSeconds(3))).Build();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => host.StartAsync());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        Assert.Contains($"no OrleansQuant silo answers at gateway 127.0.0.1:{fixture.GatewayPort} within 3 s", error.Message);
        Assert.Contains("TLS off here", error.Message);
    }

    [Fact]
    public async Task AClientTrustingAnotherCertificateIsRefused()
    {
        using var other = new SelfSignedCertificate("someone-else");
        var settings = SdkClientHost.Settings($"127.0.0.1:{fixture.GatewayPort}", TimeSpan.FromSeconds(3));
        settings["OrleansQuant:Client:Tls:TrustedCertificatePath"] = other.CertificatePemPath;
        using var host = SdkClientHost.Builder(settings).Build();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => host.StartAsync());
        Assert.Contains("TLS on here", error.Message);
    }

    [Fact]
    public async Task ASecondSiloWithTheSameCertificateJoinsTheFirstOverTls()
    {
        using var second = fixture.Build(FreePort.Next(), FreePort.Next(), fixture.SiloPort);
        using var joinTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await second.StartAsync(joinTimeout.Token);
        try
        {
            var management = fixture.Cluster.GetGrain<IManagementGrain>(0);
            Dictionary<SiloAddress, SiloStatus> hosts = [];
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(250))
            {
                hosts = await management.GetHosts(onlyActive: true);
                if (hosts.Count == 2)
                {
                    break;
                }
            }

            Assert.Equal(2, hosts.Count);
            Assert.All(hosts.Values, s => Assert.Equal(SiloStatus.Active, s));
        }
        finally
        {
            await second.StopAsync();
        }
    }
}
