using Microsoft.Extensions.Hosting;

namespace OrleansQuant.Silo;

/// <summary>
/// The lifetime of a host inside a CLI command: the command starts and stops it. The default console lifetime
/// would take Ctrl+C/SIGTERM for itself, stop the silo under a running command, and block process exit until the
/// host is disposed — which hangs a command that was waiting on that silo. System.CommandLine owns the signals and
/// cancels the command's token instead.
/// </summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
