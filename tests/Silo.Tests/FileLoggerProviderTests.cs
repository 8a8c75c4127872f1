using Microsoft.Extensions.Logging;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Tests;

/// <summary>The file logger that takes Orleans' logs off the console.</summary>
public sealed class FileLoggerProviderTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"orleansquant-test-{Guid.NewGuid():N}.log");

    [Fact]
    public void EveryEntryIsOneLineWithTimeLevelCategoryAndMessage()
    {
        using var provider = new FileLoggerProvider(LogFile.At(_path));
        var logger = provider.CreateLogger("Orleans.Runtime.Silo");

        logger.LogInformation("silo {Name} started", "s1");
        logger.LogWarning(new InvalidOperationException("first line\nsecond line"), "gateway {Port} refused\nthe connection", 30000);

        var lines = File.ReadAllLines(_path);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info Orleans\.Runtime\.Silo\[0\] silo s1 started$", lines[0]);
        Assert.Contains("warn Orleans.Runtime.Silo", lines[1]);
        Assert.Contains("gateway 30000 refused | the connection | System.InvalidOperationException: first line | second line", lines[1]);
    }

    [Fact]
    public void ConcurrentWritersNeverInterleaveWithinALine()
    {
        using var provider = new FileLoggerProvider(LogFile.At(_path));

        Parallel.For(0, 8, writer =>
        {
            var logger = provider.CreateLogger($"writer{writer}");
            for (int i = 0; i < 200; i++)
            {
                logger.LogInformation("entry {Index} of writer {Writer}", i, writer);
            }
        });

        var lines = File.ReadAllLines(_path);
        Assert.Equal(8 * 200, lines.Length);
        Assert.All(lines, line => Assert.Matches(@" info writer(\d)\[0\] entry \d+ of writer \1$", line));
    }

    [Fact]
    public void OneFilePerPathIsShared() => Assert.Same(LogFile.At(_path), LogFile.At(Path.Combine(Path.GetDirectoryName(_path)!, ".", Path.GetFileName(_path))));

    public void Dispose() => File.Delete(_path);
}
