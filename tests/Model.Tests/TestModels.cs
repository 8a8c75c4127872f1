using OrleansQuant.Model.Demo;

namespace OrleansQuant.Model.Tests;

/// <summary>Demo checkpoints written once per test run into a temp folder, and the repository's golden files.</summary>
public static class TestModels
{
    private static readonly string s_root = Path.Combine(Path.GetTempPath(), "orleansquant-tests-" + Environment.ProcessId);
    private static readonly Lock s_gate = new();

    /// <summary>The checkpoint directory of a demo spec, written on first use.</summary>
    public static string Directory(DemoModelSpec spec)
    {
        lock (s_gate)
        {
            return DemoModelWriter.EnsureCached(spec, s_root);
        }
    }

    /// <summary>A file under tests/golden in the repository.</summary>
    public static string Golden(string name) => Repository("tests", "golden", name);

    /// <summary>A path inside the repository (the folder holding OrleansQuant.sln above the test assembly).</summary>
    public static string Repository(params string[] parts)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OrleansQuant.sln")))
        {
            directory = directory.Parent;
        }

        return directory is null
            ? throw new DirectoryNotFoundException("OrleansQuant.sln not found above " + AppContext.BaseDirectory)
            : Path.Combine([directory.FullName, .. parts]);
    }

    /// <summary>The golden prompt: BOS and the bytes of "The quick brown fox jumps" in the byte vocabulary (id = byte + 2).</summary>
    public static int[] GoldenPrompt { get; } = [0, .. "The quick brown fox jumps"u8.ToArray().Select(b => b + 2)];
}
