using System.Diagnostics;
using System.Text;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// One real <c>orleansquant serve</c> process (the orleansquant.dll built beside the tests, run by the same dotnet),
/// with Redis membership on loopback and one CPU device. Its output is kept for failure messages; killing it is
/// <c>kill -9</c>: no goodbye to the membership, as when a machine dies.
/// </summary>
internal sealed class SiloProcess : IDisposable
{
    // Failure detection fast enough for a test on two shared cores, not so fast that a busy silo is suspected: a
    // silo that misses 2 probes of 2 s is suspected (Orleans' defaults: 3 of 5 s).
    private static readonly Dictionary<string, string> s_membership = new()
    {
        ["OrleansQuant__Clustering__Membership__ProbeTimeout"] = "00:00:02",
        ["OrleansQuant__Clustering__Membership__NumMissedProbesLimit"] = "2",
    };

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long? _logStart;

    private SiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What it printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The log file the command announced ("logs: PATH"), where Orleans' own messages go.</summary>
    public string? LogFile => Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("logs: ", StringComparison.Ordinal))?["logs: ".Length..];

    /// <summary>
    /// What this process wrote to its log file: the file is named by process id, so an earlier process of the same id
    /// may have left lines before ours; they are skipped.
    /// </summary>
    public string Log
    {
        get
        {
            if (LogFile is not { } path || !File.Exists(path))
            {
                return "";
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(_logStart ?? 0, stream.Length), SeekOrigin.Begin);
            return new StreamReader(stream).ReadToEnd();
        }
    }

    /// <param name="environment">further settings (e.g. the model store's, <c>OrleansQuant__Store__…</c>), after the membership's.</param>
    public static SiloProcess Start(string redis, string clusterId, int siloPort, int gatewayPort, IReadOnlyDictionary<string, string>? environment = null) =>
        Serve(["--redis", redis, "--cluster-id", clusterId], siloPort, gatewayPort, environment);

    /// <summary>
    /// <c>orleansquant serve --silo-port … --gateway-port … --devices cpu:1</c> with <paramref name="arguments"/> (e.g.
    /// TLS options; none means localhost clustering, this silo its own primary).
    /// </summary>
    public static SiloProcess Serve(IEnumerable<string> arguments, int siloPort, int gatewayPort, IReadOnlyDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "orleansquant.dll");
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "serve", "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--devices", "cpu:1" }.Concat(arguments))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in s_membership.Concat(environment ?? new Dictionary<string, string>()))
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, siloPort, gatewayPort);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.Exited += (_, _) => silo._started.TrySetException(new InvalidOperationException($"silo {siloPort} exited before it started:\n{silo.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits for "silo started" (the host is up and the silo joined the membership), failing after <paramref name="timeout"/>.</summary>
    public async Task WaitStartedAsync(TimeSpan timeout)
    {
        try
        {
            await _started.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"silo {SiloPort} did not start within {timeout.TotalSeconds} s:\n{Output}");
        }
    }

    /// <summary>SIGKILL, and waits until the process is gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        // Announced before the host starts and writes anything.
        if (_logStart is null && line.Trim().StartsWith("logs: ", StringComparison.Ordinal))
        {
            string path = line.Trim()["logs: ".Length..];
            _logStart = File.Exists(path) ? new FileInfo(path).Length : 0;
        }

        if (line.Contains("silo started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    // dotnet test runs the tests in a testhost started by the dotnet host, and tells it where that host is.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
