using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Grains.Hosting;

/// <summary>A silo's OrleansQuant settings (configuration section "OrleansQuant").</summary>
public sealed class OrleansQuantOptions
{
    public const string Section = "OrleansQuant";

    /// <summary>
    /// The devices this silo owns: "cpu:N" (1 ≤ N ≤ 64) for N CPU virtual devices sharing the process's cores (what CI
    /// runs); "cuda" for every GPU or "cuda:0,1" for the GPUs with those ordinals (PyTorch's numbering: "cuda:1" is the
    /// second GPU); or "auto": a registered accelerator's devices when the machine has them, else one CPU device with
    /// every core. Checked at silo start by <see cref="OrleansQuantOptionsValidator"/>.
    /// </summary>
    public string Devices { get; set; } = "auto";

    /// <summary>
    /// Where a layer keeps its full-precision weights for re-quantization once int8 ones serve: "auto" (on its device
    /// while a quarter of the device's memory stays free, else in page-locked host memory), "device" or "host".
    /// </summary>
    public string FullPrecisionCopy { get; set; } = "auto";

    /// <summary><see cref="FullPrecisionCopy"/> as a placement; throws naming the accepted values.</summary>
    public static FullPrecisionPlacement ParsePlacement(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => FullPrecisionPlacement.Auto,
        "device" => FullPrecisionPlacement.Device,
        "host" => FullPrecisionPlacement.Host,
        _ => throw new ArgumentException($"{Section}:{nameof(FullPrecisionCopy)} is '{value}'; expected auto, device or host"),
    };
}
