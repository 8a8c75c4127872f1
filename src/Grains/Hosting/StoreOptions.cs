namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Where quantized layers and grain state outlive a silo (configuration section "OrleansQuant:Store"): the model
/// store's directory, which holds each committed layer's shard, and the grain storage that holds the small records
/// naming them (<see cref="Contracts.LayerRecord"/>, <see cref="Contracts.ModelRecord"/>).
/// </summary>
public sealed class StoreOptions
{
    public const string Section = "OrleansQuant:Store";

    /// <summary>The grain storage provider name the layer and model grains persist to.</summary>
    public const string StorageName = "orleansquant";

    /// <summary>
    /// The model store's root. In a cluster, a directory every silo reaches at this path (a shared volume), since a
    /// layer may reactivate on another silo. Default: "orleansquant/store" under the user's local data directory (the
    /// temporary directory when there is none).
    /// </summary>
    public string Directory { get; set; } = DefaultDirectory();

    /// <summary>
    /// Where grain state lives: "memory" (the default, and the one-process demo's: lost with the silo), "file" (JSON
    /// files under <see cref="Directory"/>/grain-state: survives a restart of a cluster that shares the directory), or
    /// "redis" (<see cref="RedisConnectionString"/>: for real clusters).
    /// </summary>
    public string GrainStorage { get; set; } = "memory";

    /// <summary>A StackExchange.Redis configuration string, e.g. "localhost:6379"; required when <see cref="GrainStorage"/> is redis.</summary>
    public string? RedisConnectionString { get; set; }

    private static string DefaultDirectory()
    {
        string data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        return Path.Combine(string.IsNullOrEmpty(data) ? Path.GetTempPath() : data, "orleansquant", "store");
    }
}
