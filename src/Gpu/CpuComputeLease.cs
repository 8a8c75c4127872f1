namespace OrleansQuant.Gpu;

/// <summary>Cores granted by a <see cref="CpuComputeBudget"/>; disposing gives them back, once.</summary>
public sealed class CpuComputeLease : IDisposable
{
    private CpuComputeBudget? _budget;

    internal CpuComputeLease(CpuComputeBudget budget, int units)
    {
        _budget = budget;
        Units = units;
    }

    public int Units { get; }

    public void Dispose() => Interlocked.Exchange(ref _budget, null)?.Release(Units);
}
