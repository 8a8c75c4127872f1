namespace OrleansQuant.Grains;

/// <summary>
/// How many layer grains of this process are running a forward pass on their device right now, and the most there
/// have been at once: the gauge that shows the pipeline keeps several devices busy.
/// </summary>
public static class LayerActivity
{
    private static int s_current;
    private static int s_peak;

    public static int Current => Volatile.Read(ref s_current);

    public static int Peak => Volatile.Read(ref s_peak);

    public static void ResetPeak() => Interlocked.Exchange(ref s_peak, Current);

    public static Scope Enter()
    {
        int now = Interlocked.Increment(ref s_current);
        int peak;
        while (now > (peak = Volatile.Read(ref s_peak)) && Interlocked.CompareExchange(ref s_peak, now, peak) != peak)
        {
        }

        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref s_current);
    }
}
