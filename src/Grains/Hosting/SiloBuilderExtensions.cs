using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Placement;

namespace OrleansQuant.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// Adds this silo's devices, the activation store, device-aware placement and the watcher that restores models
    /// after a silo's death (<see cref="SiloLossWatcher"/>). Settings come from the
    /// "OrleansQuant" configuration section, then <paramref name="configure"/>, and are validated when the silo starts.
    /// CPU devices are always registered (every machine has them); accelerators add their own provider beside them.
    /// The model store and grain storage come from "OrleansQuant:Store", then <paramref name="configureStore"/>
    /// (memory grain storage unless they say otherwise).
    /// </summary>
    public static ISiloBuilder AddOrleansQuant(this ISiloBuilder builder, Action<OrleansQuantOptions>? configure = null,
        Action<StoreOptions>? configureStore = null)
    {
        var options = builder.Services.AddOptions<OrleansQuantOptions>()
            .Bind(builder.Configuration.GetSection(OrleansQuantOptions.Section))
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OrleansQuantOptions>, OrleansQuantOptionsValidator>());
        builder.AddCpuDevices();
        builder.Services.AddSingleton<DeviceRegistry>();
        builder.Services.AddHostedService<DeviceRegistryStartup>();
        builder.Services.AddSingleton<ActivationStore>();
        builder.Services.AddOptions<PathRootsOptions>().Bind(builder.Configuration.GetSection(PathRootsOptions.Section));
        builder.Services.AddSingleton<PathRoots>();
        builder.Services.AddHostedService<PathRootsStartup>();
        builder.Services.AddHostedService<SiloLossWatcher>();
        builder.AddPlacementDirector<SiloTargetPlacement, SiloTargetPlacementDirector>();
        builder.AddIncomingGrainCallFilter<ModelErrorFilter>();
        builder.AddOrleansQuantStore(configureStore);
        return builder;
    }
}
