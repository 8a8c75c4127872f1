using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Telemetry;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Makes the silo's devices when the host starts, so a device setting this machine cannot honour ("cuda" without
/// libcuda, say) stops the silo at once with its reason, instead of failing the first grain that needs a device.
/// While the silo runs, its devices are observed by the device-memory gauge.
/// </summary>
internal sealed class DeviceRegistryStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<DeviceRegistry>();
        ObservedDevices.Add(registry, services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        ObservedDevices.Remove(services.GetRequiredService<DeviceRegistry>());
        return Task.CompletedTask;
    }
}
