namespace OrleansQuant.Gpu;

/// <summary>One compute device as the cluster sees it: what it is and how much memory it has left.</summary>
public sealed record DeviceInfo(DeviceKind Kind, int Ordinal, string Name, long TotalMemoryBytes, long FreeMemoryBytes)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Ordinal} ({Name})";
}
