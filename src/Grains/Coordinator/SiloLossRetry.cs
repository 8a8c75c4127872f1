using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Runs a whole-model job again when a silo took some of the model's layers with it while the job ran. When an
/// attempt fails, the layer recovery looks for lost layers and restores them from the store at their committed
/// versions (<see cref="LayerRecovery"/>); if layers were restored since the attempt began, the job starts over, up to
/// <see cref="MaxAttempts"/> in all. Any other failure is the job's own and is thrown as it is, as is a cancellation.
/// Only for jobs that leave nothing half-done when they fail: quantization discards everything it built, and a save
/// writes into a staging directory that is deleted when it fails, so starting over is what either would have to do anyway.
/// </summary>
internal static class SiloLossRetry
{
    public const int MaxAttempts = 3;

    public static Task Run(string model, LayerRecovery recovery, ModelJob job, ILogger logger, Func<Task> attempt) =>
        Run(model, recovery, job, logger, async () =>
        {
            await attempt();
            return true;
        });

    public static async Task<T> Run<T>(string model, LayerRecovery recovery, ModelJob job, ILogger logger, Func<Task<T>> attempt)
    {
        for (int n = 1; ; n++)
        {
            int epoch = recovery.Epoch;
            try
            {
                return await attempt();
            }
            catch (Exception error) when (n < MaxAttempts && error is not OperationCanceledException && !job.Cancellation.IsCancellationRequested)
            {
                // Another lane's recovery may have run meanwhile (the epoch moved); otherwise look now.
                if (recovery.Epoch == epoch)
                {
                    await recovery.Recover(error, recovery.Epoch);
                }

                if (recovery.Epoch == epoch)
                {
                    throw;
                }

                logger.LogWarning("Model {Model}: {Kind} job {Job} lost layers with a silo ({Error}); they are restored, starting again (attempt {Attempt} of {MaxAttempts})",
                    model, job.Kind, job.Id, error.Message, n + 1, MaxAttempts);
                job.Report(new JobEvent("restart", n, MaxAttempts, 0,
                    Message: $"a silo left with layers of the model ({error.Message}); they were restored from the store and the {job.Kind} starts again"));
            }
        }
    }
}
