namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Where paths that clients send may point (configuration section "OrleansQuant:Paths"; environment:
/// <c>OrleansQuant__Paths__ModelRoots__0</c>, …). Clients may be remote, so the silo, not the client, decides which
/// directories a load, a calibration file or a save may touch; <see cref="PathRoots"/> enforces it in the grain.
/// </summary>
public sealed class PathRootsOptions
{
    public const string Section = "OrleansQuant:Paths";

    /// <summary>
    /// Directories a load (<c>cluster load --model</c>, the admin API's load) and a quantize request's calibration file
    /// may read from. Saves may be loaded back, so <see cref="OutputRoots"/> are readable too.
    /// </summary>
    public List<string> ModelRoots { get; set; } = [];

    /// <summary>
    /// Directories a save (<c>cluster save</c>, the admin API's save) may write a checkpoint inside. With roots
    /// configured and none here, saves are refused: writing anywhere is the one thing a confined silo must not do.
    /// </summary>
    public List<string> OutputRoots { get; set; } = [];

    /// <summary>
    /// No roots at all: paths are not confined, as before these options existed and as vLLM trusts its caller. The silo
    /// logs a warning at start saying so (<see cref="PathRootsStartup"/>).
    /// </summary>
    public bool Unconfined => ModelRoots.Count == 0 && OutputRoots.Count == 0;
}
