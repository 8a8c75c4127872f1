using Microsoft.Extensions.DependencyInjection;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Placement;

namespace OrleansQuant.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>Adds this silo's devices, the activation store and device-aware placement.</summary>
    public static ISiloBuilder AddOrleansQuant(this ISiloBuilder builder, Action<OrleansQuantOptions>? configure = null)
    {
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.Services.AddSingleton<DeviceRegistry>();
        builder.Services.AddSingleton<ActivationStore>();
        builder.AddPlacementDirector<SiloTargetPlacement, SiloTargetPlacementDirector>();
        builder.AddIncomingGrainCallFilter<ModelErrorFilter>();
        return builder;
    }
}
