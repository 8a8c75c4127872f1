using System.Collections.Concurrent;
using System.CommandLine;

namespace OrleansQuant.Silo.Logging;

/// <summary>
/// The file one command of this process logs to: <c>$TMPDIR/orleansquant/&lt;command&gt;-&lt;pid&gt;.log</c>. Orleans'
/// own logs go here so the console keeps only the story the command tells, and so does the trace of an error the
/// command did not expect. Every host and logger of the process writing to one path shares one instance.
/// </summary>
internal sealed class LogFile
{
    private static readonly ConcurrentDictionary<string, LogFile> s_files = new(StringComparer.Ordinal);

    private readonly Lock _gate = new();
    private StreamWriter? _writer;
    private bool _broken;

    private LogFile(string path) => Path = path;

    public string Path { get; }

    /// <summary>The directory every command's log goes into; the temp directory, as logs are per run, not kept.</summary>
    public static string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orleansquant");

    /// <summary>The log of the command <paramref name="parse"/> invokes, named by its path (<c>cluster status</c> → <c>cluster-status</c>).</summary>
    public static LogFile For(ParseResult parse) =>
        At(System.IO.Path.Combine(Directory, $"{CommandPath(parse).Replace(' ', '-')}-{Environment.ProcessId}.log"));

    /// <summary>The invoked command's names below the root, as typed: <c>cluster status</c>.</summary>
    public static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Add(result.Command.Name);
        }

        names.Reverse();
        return names.Count == 0 ? "orleansquant" : string.Join(' ', names);
    }

    public static LogFile At(string path) => s_files.GetOrAdd(System.IO.Path.GetFullPath(path), p => new LogFile(p));

    /// <summary>Appends <paramref name="text"/> and a newline, flushed at once so the file is complete even if the process is killed.</summary>
    public void Append(string text)
    {
        lock (_gate)
        {
            if (_broken)
            {
                return;
            }

            try
            {
                _writer ??= Open();
                _writer.WriteLine(text);
                _writer.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A log that cannot be written must not fail the command (nor Orleans, which logs from its own threads).
                _broken = true;
            }
        }
    }

    private StreamWriter Open()
    {
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        // Shared so the user (or a test) can read it while this process still writes.
        var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new StreamWriter(stream);
    }
}
