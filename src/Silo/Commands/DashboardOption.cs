using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using OrleansQuant.Silo.Observability;

namespace OrleansQuant.Silo.Commands;

/// <summary><c>--dashboard [PORT|HOST:PORT]</c>: the Orleans Dashboard beside the silo (<c>serve</c>, <c>demo</c>), off unless given.</summary>
internal static class DashboardOption
{
    public static Option<string?> Create() => new("--dashboard")
    {
        Description = $"Serve the Orleans Dashboard on this port of 127.0.0.1 ({DashboardHostOptions.DefaultPort} when none is given) or at HOST:PORT (off by default)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The silo host's setting for the option: its URL when the option was given, else null (no dashboard).</summary>
    public static KeyValuePair<string, string?> Setting(ParseResult parse, Option<string?> option) =>
        new($"{DashboardHostOptions.Section}:{nameof(DashboardHostOptions.Url)}",
            parse.GetResult(option) is null ? null : DashboardHostOptions.UrlFor(parse.GetValue(option)));

    /// <summary>Prints where the dashboard listens, when the host runs one.</summary>
    public static void Announce(IServiceProvider services)
    {
        if (services.GetService<DashboardHost>() is { } dashboard)
        {
            Console.WriteLine($"Orleans Dashboard on {string.Join(", ", dashboard.Urls)}/");
        }
    }
}
