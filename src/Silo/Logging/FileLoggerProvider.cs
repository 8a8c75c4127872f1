using Microsoft.Extensions.Logging;

namespace OrleansQuant.Silo.Logging;

/// <summary>
/// Writes log entries to a <see cref="LogFile"/>, one line each (time, level, category, message, and any exception
/// folded onto the same line), so the file can be grepped and tailed. Microsoft.Extensions.Logging has no file logger.
/// </summary>
[ProviderAlias("File")]
internal sealed class FileLoggerProvider(LogFile file) : ILoggerProvider
{
    public LogFile File { get; } = file;

    public ILogger CreateLogger(string categoryName) => new FileLogger(File, categoryName);

    // The file belongs to the process, not to one host: several hosts (a silo, then a client) may log to it in turn.
    public void Dispose()
    {
    }

    private sealed class FileLogger(LogFile file, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // Levels are filtered by the logger factory's rules; here only "off" is off.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            string entry = $"{DateTime.Now:yyyy-MM-dd HH:mm:ss.fff} {Level(logLevel)} {category}[{eventId.Id}] {message}";
            if (exception is not null)
            {
                entry += " | " + exception;
            }

            file.Append(OneLine(entry));
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };

        private static string OneLine(string text) => text.ReplaceLineEndings(" | ");
    }
}
