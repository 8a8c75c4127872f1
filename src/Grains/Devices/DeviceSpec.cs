using System.Globalization;
using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// The devices setting, parsed: "auto" (<see cref="Kind"/> null: whatever the machine has), a bare "kind" for every
/// device of that kind the machine has, or "kind:suffix". For the CPU the suffix is a count ("cpu:2": two virtual
/// devices sharing the cores, <see cref="Count"/>); for a GPU kind it is a comma-separated list of device ordinals,
/// PyTorch's convention ("cuda:1" is the second GPU, "cuda:0,1" the first two, <see cref="Ordinals"/>). A bare kind has
/// neither (Count 0, Ordinals null).
/// </summary>
public sealed record DeviceSpec(DeviceKind? Kind, int Count = 0, IReadOnlyList<int>? Ordinals = null)
{
    public const string Setting = "OrleansQuant:Devices";

    public const int MaxCount = 64;

    /// <summary>Whether "kind:N" counts devices (the CPU's virtual devices) rather than naming them by ordinal (GPUs).</summary>
    public static bool IsCounted(DeviceKind kind) => kind == DeviceKind.Cpu;

    public static bool TryParse(string? devices, out DeviceSpec spec)
    {
        spec = new DeviceSpec(Kind: null);
        if (string.Equals(devices, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        int colon = devices?.IndexOf(':') ?? -1;
        if (colon < 0)
        {
            // A bare kind ("cuda"): every device of that kind this machine has.
            var bare = Enum.GetValues<DeviceKind>().Where(k => string.Equals(Name(k), devices, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (bare.Length != 1)
            {
                return false;
            }

            spec = new DeviceSpec(bare[0]);
            return true;
        }

        // By name only: Enum.TryParse would also take "0:2" as kind 0.
        string prefix = devices![..colon];
        var kinds = Enum.GetValues<DeviceKind>().Where(k => string.Equals(Name(k), prefix, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (kinds.Length != 1)
        {
            return false;
        }

        string suffix = devices[(colon + 1)..];
        if (IsCounted(kinds[0]))
        {
            if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 1 or > MaxCount)
            {
                return false;
            }

            spec = new DeviceSpec(kinds[0], count);
            return true;
        }

        var ordinals = new List<int>();
        foreach (string part in suffix.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int ordinal) || ordinals.Contains(ordinal))
            {
                return false;
            }

            ordinals.Add(ordinal);
        }

        if (ordinals.Count > MaxCount)
        {
            return false;
        }

        spec = new DeviceSpec(kinds[0], ordinals.Count, ordinals);
        return true;
    }

    /// <summary>The error for a setting that is not understood: the setting, its value, and what <paramref name="kinds"/> accept.</summary>
    public static string Expected(string? devices, IEnumerable<DeviceKind> kinds)
    {
        var forms = kinds.Distinct().Order().Select(k => IsCounted(k)
            ? $"'{Name(k)}' or '{Name(k)}:N' (N devices, 1 ≤ N ≤ {MaxCount})"
            : $"'{Name(k)}' (every one) or '{Name(k)}:I,J,…' (device ordinals, distinct, from 0: '{Name(k)}:1' is the second)");
        return $"{Setting} '{devices}' is not understood; expected {string.Join(", ", forms)} or 'auto'";
    }

    /// <summary>The ordinals of the devices this setting asks <paramref name="provider"/> for, given what it has.</summary>
    public IReadOnlyList<int> OrdinalsFrom(IComputeDeviceProvider provider) =>
        Ordinals ?? Enumerable.Range(0, Count > 0 ? Count : Math.Min(provider.AutoCount, MaxCount)).ToArray();

    public static string Name(DeviceKind kind) => kind.ToString().ToLowerInvariant();

    public override string ToString() => Kind is not { } kind ? "auto"
        : Ordinals is { } ordinals ? $"{Name(kind)}:{string.Join(",", ordinals)}"
        : Count > 0 ? $"{Name(kind)}:{Count}"
        : Name(kind);
}
