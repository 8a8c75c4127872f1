using System.Diagnostics;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>
/// The property every reader of untrusted input must have: on any input it returns, or throws the project's typed
/// error naming the input — never IndexOutOfRange, NullReference, OutOfMemory or anything else — and does so quickly.
/// </summary>
internal static class FuzzRules
{
    /// <summary>Cases per property: the issue asks for at least 1000.</summary>
    public const int Cases = 1000;

    /// <summary>How long one case may take before it counts as a hang (generous: the machine is shared).</summary>
    public static readonly TimeSpan PerCase = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="read"/>; a <typeparamref name="TError"/> must name <paramref name="source"/>.</summary>
    public static void ReadsOrRefuses<TError>(string source, Action read)
        where TError : Exception
    {
        var clock = Stopwatch.StartNew();
        try
        {
            read();
        }
        catch (TError error)
        {
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            Assert.Contains(source, error.Message);
        }

        Assert.True(clock.Elapsed < PerCase, $"one case took {clock.Elapsed}: the input makes the reader hang");
    }

    /// <summary>A fresh file name per case, so CsCheck's parallel threads never share one.</summary>
    public static string CaseFile(string directory, string name) =>
        Path.Combine(directory, $"{Guid.NewGuid():N}-{name}");
}
