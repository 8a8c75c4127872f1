using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using OrleansQuant.Grains.Store;
using OrleansQuant.Model.Store;
using StackExchange.Redis;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Registers the model store and the grain storage the layer and model grains persist their records to
/// (<see cref="StoreOptions.StorageName"/>). The provider is chosen here, at build time, from the "OrleansQuant:Store"
/// section and <paramref name="configure"/>: grain storage is a service the silo wires before it starts.
/// </summary>
internal static class StoreRegistration
{
    public static ISiloBuilder AddOrleansQuantStore(this ISiloBuilder builder, Action<StoreOptions>? configure)
    {
        var options = builder.Services.AddOptions<StoreOptions>().Bind(builder.Configuration.GetSection(StoreOptions.Section));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // The same settings, read now, pick the provider; the options above are what the running silo sees.
        var chosen = new StoreOptions();
        builder.Configuration.GetSection(StoreOptions.Section).Bind(chosen);
        configure?.Invoke(chosen);

        builder.Services.AddSingleton(sp => new ModelStore(sp.GetRequiredService<IOptions<StoreOptions>>().Value.Directory));
        switch (chosen.GrainStorage.Trim().ToLowerInvariant())
        {
            case "memory":
                builder.AddMemoryGrainStorage(StoreOptions.StorageName);
                break;
            case "file":
                string directory = Path.Combine(Path.GetFullPath(chosen.Directory), "grain-state");
                builder.Services.AddGrainStorage(StoreOptions.StorageName, (sp, _) =>
                    new FileGrainStorage(directory, sp.GetRequiredService<IGrainStorageSerializer>(), sp.GetRequiredService<ILogger<FileGrainStorage>>()));
                break;
            case "redis":
                string connection = string.IsNullOrWhiteSpace(chosen.RedisConnectionString)
                    ? throw new ArgumentException($"{StoreOptions.Section}:{nameof(StoreOptions.RedisConnectionString)} is empty; expected a Redis configuration string such as localhost:6379 when {nameof(StoreOptions.GrainStorage)} is redis")
                    : chosen.RedisConnectionString;
                builder.AddRedisGrainStorage(StoreOptions.StorageName, redis => redis.ConfigurationOptions = ConfigurationOptions.Parse(connection));
                break;
            default:
                throw new ArgumentException($"{StoreOptions.Section}:{nameof(StoreOptions.GrainStorage)} is '{chosen.GrainStorage}'; expected memory, file or redis");
        }

        return builder;
    }
}
