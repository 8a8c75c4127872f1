namespace OrleansQuant.Model.Tests.Calibration;

/// <summary>Collects progress lines synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class ListProgress : IProgress<string>
{
    public List<string> Lines { get; } = [];

    public void Report(string value) => Lines.Add(value);
}
