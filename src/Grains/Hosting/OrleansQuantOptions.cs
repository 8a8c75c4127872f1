namespace OrleansQuant.Grains.Hosting;

/// <summary>A silo's OrleansQuant settings (configuration section "OrleansQuant").</summary>
public sealed class OrleansQuantOptions
{
    public const string Section = "OrleansQuant";

    /// <summary>
    /// The devices this silo owns: "cpu:N" for N CPU virtual devices sharing the host's cores (what CI runs), or
    /// "auto". A CUDA device backend is not part of this build, so "auto" means one CPU device.
    /// </summary>
    public string Devices { get; set; } = "auto";
}
