namespace OrleansQuant.Silo;

/// <summary>
/// Reports progress on the calling thread, in order. <see cref="Progress{T}"/> posts to the thread pool, which lets
/// progress lines arrive after (and interleave with) the results printed once the work is done.
/// </summary>
internal sealed class ConsoleProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
