using System.Net;

namespace OrleansQuant.Silo.Tests.Observability;

/// <summary><c>serve --dashboard</c>: the Orleans Dashboard's page and its data answer from the silo's host.</summary>
[Collection(ObservabilityCollection.Name)]
public sealed class DashboardTests(ObservabilityFixture fixture)
{
    [Fact]
    public async Task The_dashboard_page_answers()
    {
        using var page = await fixture.Http.GetAsync(fixture.DashboardUri);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_dashboard_reads_the_cluster_through_its_client()
    {
        // Its counters come from the silo (AddDashboard there) through the dashboard's own cluster client.
        using var counters = await fixture.Http.GetAsync(new Uri(fixture.DashboardUri, "DashboardCounters"));
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Contains("\"totalActiveHostCount\":1", await counters.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(null, "127.0.0.1:8080")]
    [InlineData("9090", "127.0.0.1:9090")]
    [InlineData("0.0.0.0:9090", "0.0.0.0:9090")]
    public void A_bare_port_listens_on_loopback(string? value, string url) =>
        Assert.Equal(url, OrleansQuant.Silo.Observability.DashboardHostOptions.UrlFor(value));

    /// <summary><c>serve</c> and <c>demo</c> take the same option and give the silo host the same setting; absent, none.</summary>
    [Theory]
    [InlineData("serve")]
    [InlineData("demo")]
    public void ServeAndDemoTurnTheDashboardOnAlike(string command)
    {
        var root = Cli.Create();
        var option = root.Subcommands.Single(c => c.Name == command).Options.OfType<System.CommandLine.Option<string?>>().Single(o => o.Name == "--dashboard");
        var on = OrleansQuant.Silo.Commands.DashboardOption.Setting(root.Parse([command, "--dashboard", "9191"]), option);
        Assert.Equal("127.0.0.1:9191", on.Value);
        Assert.Equal($"{OrleansQuant.Silo.Observability.DashboardHostOptions.Section}:Url", on.Key);
        Assert.Null(OrleansQuant.Silo.Commands.DashboardOption.Setting(root.Parse([command]), option).Value);
    }
}
