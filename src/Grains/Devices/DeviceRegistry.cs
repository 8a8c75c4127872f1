using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Hosting;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// The compute devices this silo owns, made once at start by the <see cref="IComputeDeviceProvider"/> that
/// <see cref="OrleansQuantOptions.Devices"/> names. "auto" takes an accelerator's devices when one is registered and
/// present, else the CPU's, so a silo without GPUs runs the same placement and pipeline code.
/// </summary>
public sealed class DeviceRegistry : IDisposable
{
    private readonly ComputeDeviceSlot[] _slots;

    public DeviceRegistry(IOptions<OrleansQuantOptions> options, IEnumerable<IComputeDeviceProvider> providers, ILogger<DeviceRegistry> logger)
    {
        var registered = providers.ToArray();
        string devices = options.Value.Devices;
        if (!DeviceSpec.TryParse(devices, out var spec))
        {
            throw new ArgumentException(DeviceSpec.Expected(devices, registered.Select(p => p.Kind)));
        }

        var (provider, ordinals) = Choose(spec, registered)
            ?? throw new ArgumentException(DeviceSpec.Expected(devices, registered.Select(p => p.Kind)));
        _slots = provider.Create(ordinals).ToArray();
        logger.LogInformation("Devices {Setting} = {Devices}: {Slots}", DeviceSpec.Setting, devices, string.Join(", ", _slots.Select(s => s.Device.Info)));
    }

    public int Count => _slots.Length;

    /// <summary>
    /// The device with this ordinal: the one placement plans name (<see cref="Describe"/>). A silo given "cuda:1" holds one
    /// device, ordinal 1, so ordinals are looked up, not used as indexes.
    /// </summary>
    public ComputeDeviceSlot this[int ordinal] =>
        _slots.FirstOrDefault(s => s.Device.Info.Ordinal == ordinal)
            ?? throw new ArgumentOutOfRangeException(nameof(ordinal),
                $"device {ordinal} does not exist on this silo; it has {_slots.Length}: {string.Join(", ", _slots.Select(s => $"{DeviceSpec.Name(s.Device.Info.Kind)}:{s.Device.Info.Ordinal}"))}");

    /// <summary>
    /// Where the coordinator runs the model's ends (embedding, final norm, lm_head): the first device of this silo, the silo the
    /// coordinator grain lives on. Sharing it with layers (rather than a device of its own) keeps its work inside this
    /// silo's compute budget and queued on that device's stream.
    /// </summary>
    public ComputeDeviceSlot Head => _slots[0];

    public IReadOnlyList<DeviceDescription> Describe() =>
        _slots.Select(s => s.Device.Info)
            .Select(i => new DeviceDescription(i.Kind.ToString().ToLowerInvariant(), i.Ordinal, i.Name, i.TotalMemoryBytes, i.FreeMemoryBytes))
            .ToArray();

    // An explicit kind must be registered; "auto" prefers an accelerator that is present, and falls back to the CPU.
    private static (IComputeDeviceProvider Provider, IReadOnlyList<int> Ordinals)? Choose(DeviceSpec spec, IComputeDeviceProvider[] providers)
    {
        if (spec.Kind is { } kind)
        {
            var named = providers.FirstOrDefault(p => p.Kind == kind);
            // A bare kind takes all its provider has; a provider with none explains why when asked for none.
            return named is null ? null : (named, spec.OrdinalsFrom(named));
        }

        var auto = providers.FirstOrDefault(p => p.Kind != DeviceKind.Cpu && p.AutoCount > 0)
            ?? providers.FirstOrDefault(p => p.AutoCount > 0);
        return auto is null ? null : (auto, spec.OrdinalsFrom(auto));
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Dispose();
        }
    }
}
