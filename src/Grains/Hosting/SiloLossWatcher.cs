using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Coordinator;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Wakes every model of the <see cref="IModelCatalogGrain"/> when the cluster declares a silo dead, so that a model
/// whose coordinator or layers died with it is restored from the store at once (<see cref="IModelGrain.RestoreLostLayers"/>),
/// not when its next request arrives and waits for it. Every silo follows membership; the active silo whose address
/// sorts first in the snapshot that reported the death does the waking (each silo computes the same one from the same
/// snapshot, and a repeated wake costs a look at the layers, so a disagreement while membership settles is harmless).
/// </summary>
internal sealed class SiloLossWatcher(IClusterMembershipService membership, ILocalSiloDetails local, IGrainFactory grains, ILogger<SiloLossWatcher> logger)
    : BackgroundService
{
    // A model's restore has its own 90 s deadline; the catalog or a model may sit on a silo whose death the grain
    // directory has not caught up with yet, so a call that meets a silo going away is tried again for a while.
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_retryFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    // Waking is for models nobody is calling: it waits for the serving path (a failed step's own recovery, the SDK's
    // re-issued streams) and Orleans' repair of the grain directory to settle first. A wake sent at once can reach a
    // coordinator whose directory entry died with the silo while its old activation still serves, and the second
    // activation's restoring load drops the first one's KV caches under its live sequences (seen once in CI).
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        ClusterMembershipSnapshot? previous = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping))
            {
                // The first snapshot is where this silo came in: deaths before it are not news.
                var died = previous is null
                    ? []
                    : snapshot.CreateUpdate(previous).Changes.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToArray();
                previous = snapshot;
                if (died.Length > 0 && IsSteward(snapshot))
                {
                    // Not awaited: membership keeps being followed while models restore.
                    _ = WakeModels(died, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private bool IsSteward(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).Min() is { } first && first.Equals(local.SiloAddress);

    private async Task WakeModels(SiloAddress[] died, CancellationToken stopping)
    {
        string dead = string.Join(", ", died.Select(d => d.ToParsableString()));
        try
        {
            await Task.Delay(s_settle, stopping);
            string[] models = await Retried(() => grains.GetGrain<IModelCatalogGrain>(0).Models(), stopping);
            logger.LogInformation("Silo {Dead} was declared dead; checking {Count} models for lost coordinators and layers", dead, models.Length);
            await Task.WhenAll(models.Select(model => Wake(model, dead, stopping)));
        }
        catch (Exception error) when (!stopping.IsCancellationRequested)
        {
            logger.LogWarning(error, "After silo {Dead} was declared dead, the model catalog could not be read; its models come back on their next request", dead);
        }
    }

    private async Task Wake(string model, string dead, CancellationToken stopping)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Retried(async () =>
            {
                await grains.GetGrain<IModelGrain>(model).RestoreLostLayers();
                return true;
            }, stopping);
            logger.LogInformation("Model {Model} checked after silo {Dead} died: whole again {Seconds:F2} s later", model, dead, clock.Elapsed.TotalSeconds);
        }
        catch (Exception error) when (!stopping.IsCancellationRequested)
        {
            logger.LogWarning(error, "Model {Model} could not be restored after silo {Dead} died; it is tried again on its next request", model, dead);
        }
    }

    private async Task<T> Retried<T>(Func<Task<T>> call, CancellationToken stopping)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call().WaitAsync(s_callTimeout, stopping);
            }
            catch (Exception error) when (LayerRecovery.IsSiloLoss(error) && clock.Elapsed < s_retryFor && !stopping.IsCancellationRequested)
            {
                await Task.Delay(s_retryDelay, stopping);
            }
        }
    }
}
