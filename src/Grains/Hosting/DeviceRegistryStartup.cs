using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Makes the silo's devices when the host starts, so a device setting this machine cannot honour ("cuda" without
/// libcuda, say) stops the silo at once with its reason, instead of failing the first grain that needs a device.
/// </summary>
internal sealed class DeviceRegistryStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<DeviceRegistry>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
