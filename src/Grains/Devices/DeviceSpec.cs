using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// The devices setting, parsed: "auto" (<see cref="Kind"/> null: whatever the machine has), "kind:N" for N devices
/// of one kind, or a bare "kind" for all of that kind the machine has (<see cref="Count"/> 0).
/// </summary>
public sealed record DeviceSpec(DeviceKind? Kind, int Count)
{
    public const string Setting = "OrleansQuant:Devices";

    public const int MaxCount = 64;

    public static bool TryParse(string? devices, out DeviceSpec spec)
    {
        spec = new DeviceSpec(null, 0);
        if (string.Equals(devices, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        int colon = devices?.IndexOf(':') ?? -1;
        if (colon < 0)
        {
            // A bare kind ("cuda"): every device of that kind this machine has, Count 0.
            var bare = Enum.GetValues<DeviceKind>().Where(k => string.Equals(Name(k), devices, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (bare.Length != 1)
            {
                return false;
            }

            spec = new DeviceSpec(bare[0], 0);
            return true;
        }

        // By name only: Enum.TryParse would also take "0:2" as kind 0.
        string prefix = devices![..colon];
        var kinds = Enum.GetValues<DeviceKind>().Where(k => string.Equals(Name(k), prefix, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (kinds.Length != 1
            || !int.TryParse(devices[(colon + 1)..], System.Globalization.NumberStyles.None, null, out int count)
            || count is < 1 or > MaxCount)
        {
            return false;
        }

        spec = new DeviceSpec(kinds[0], count);
        return true;
    }

    /// <summary>The error for a setting that is not understood: the setting, its value, and what <paramref name="kinds"/> accept.</summary>
    public static string Expected(string? devices, IEnumerable<DeviceKind> kinds)
    {
        var forms = kinds.Distinct().Select(k => $"'{Name(k)}:N'");
        return $"{Setting} '{devices}' is not understood; expected {string.Join(", ", forms)} (1 ≤ N ≤ {MaxCount}) or 'auto'";
    }

    public static string Name(DeviceKind kind) => kind.ToString().ToLowerInvariant();

    public override string ToString() => Kind is { } kind ? Count == 0 ? Name(kind) : $"{Name(kind)}:{Count}" : "auto";
}
