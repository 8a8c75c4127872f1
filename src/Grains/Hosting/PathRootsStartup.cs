using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Says at silo start where client paths may point, so an operator sees from the log whether a silo is confined
/// (and to what), and is warned when it is not.
/// </summary>
internal sealed class PathRootsStartup(IOptions<PathRootsOptions> options, ILogger<PathRootsStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Unconfined)
        {
            logger.LogWarning(
                "Client paths are not confined: loads, calibration files and saves may name any path this silo can read or write. " +
                "Set {ModelRoots} and {OutputRoots} (serve --model-root, --output-root) to confine them",
                $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.ModelRoots)}", $"{PathRootsOptions.Section}:{nameof(PathRootsOptions.OutputRoots)}");
        }
        else
        {
            logger.LogInformation("Client paths confined: reads (loads, calibration files) to {ReadRoots}; saves to {OutputRoots}",
                string.Join(", ", settings.ModelRoots.Concat(settings.OutputRoots).Select(Path.GetFullPath)),
                settings.OutputRoots.Count == 0 ? "nowhere (no output root)" : string.Join(", ", settings.OutputRoots.Select(Path.GetFullPath)));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
