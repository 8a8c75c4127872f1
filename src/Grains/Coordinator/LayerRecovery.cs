using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Messaging;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Grains.Telemetry;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Brings back the layers a surviving coordinator lost with a silo. When a generation step fails, the lane asks here:
/// every layer is asked where it is; a layer that reactivated empty (its silo died, Orleans placed it again on a
/// survivor) is loaded again from the model store at its recorded version — the same restoring load a reactivated
/// coordinator runs, so no calibration or GPTQ — on the device of its nearest surviving neighbour, and the pipeline's
/// stages are rebuilt on where every layer now is. One recovery runs at a time; lanes that fail meanwhile join it.
/// Each completed recovery that restored something advances <see cref="Epoch"/>: a lane whose sequences' KV caches
/// predate it re-prefills them.
/// </summary>
internal sealed class LayerRecovery(string model, string directory, string dtype, ClusterPipeline pipeline, IGrainFactory grains, ILogger logger)
{
    /// <summary>How long one recovery may take, from the first look at the layers to the last restored one serving.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    // A call to a silo that died but is not yet declared dead can wait for Orleans' response timeout; a look at the
    // layers gives up on it sooner and tries again, until the silo is declared dead and the grain can move.
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(500);

    private Task<bool>? _running;

    /// <summary>Recoveries that restored at least one layer; KV caches made before the current one are gone.</summary>
    public int Epoch { get; private set; }

    /// <summary>How long the last recovery that restored layers took, from the step's failure to the layers serving.</summary>
    public TimeSpan? LastDuration { get; private set; }

    /// <summary>
    /// Whether a step that failed with <paramref name="error"/>, started at <paramref name="epoch"/>, is worth running
    /// again after re-prefilling its sequences: layers were restored since it started (by this call or another lane's),
    /// or the error is one of a silo going away (the step may have run on some layers, so it is re-prefilled anyway).
    /// Throws when the lost layers could not be restored within <see cref="Deadline"/>.
    /// </summary>
    public async Task<bool> Recover(Exception error, int epoch)
    {
        if (Epoch != epoch)
        {
            return true;
        }

        if (_running is null || _running.IsCompleted)
        {
            _running = Run(error);
        }

        bool restored = await _running;
        return restored || Epoch != epoch || IsSiloLoss(error);
    }

    /// <summary>Errors of a call whose target silo died or left: the grain can be reached again once it reactivates.</summary>
    public static bool IsSiloLoss(Exception error) => error switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsSiloLoss),
        _ => error.InnerException is { } inner && IsSiloLoss(inner),
    };

    private async Task<bool> Run(Exception cause)
    {
        var clock = Stopwatch.StartNew();
        int attempt = 0;
        while (true)
        {
            attempt++;
            try
            {
                bool restored = await RestoreLost(cause);
                if (restored)
                {
                    LastDuration = clock.Elapsed;
                    Epoch++;
                    OrleansQuantMetrics.LayerRecoveryTime.Record(clock.Elapsed.TotalSeconds, OrleansQuantMetrics.Model(model));
                    logger.LogWarning("Model {Model} recovered its lost layers in {Seconds:F2} s ({Attempts} attempts); in-flight sequences are re-prefilled",
                        model, clock.Elapsed.TotalSeconds, attempt);
                }

                return restored;
            }
            catch (Exception error) when (IsTransient(error) && clock.Elapsed < Deadline)
            {
                // The dead silo is not declared dead yet, or a restored grain's first call raced its placement: look again.
                logger.LogInformation("Model {Model}: layers not reachable yet during recovery (attempt {Attempt}): {Error}", model, attempt, error.Message);
                await Task.Delay(s_retryDelay);
            }
            catch (Exception error)
            {
                logger.LogError(error, "Model {Model} could not recover its lost layers within {Seconds:F0} s", model, clock.Elapsed.TotalSeconds);
                throw new InvalidOperationException(
                    $"model '{model}' lost layers with a silo and could not restore them from the model store within {clock.Elapsed.TotalSeconds:F0} s (after {attempt} attempts): {error.Message}",
                    error);
            }
        }
    }

    private static bool IsTransient(Exception error) => IsSiloLoss(error) || error is TimeoutException;

    /// <returns>whether any layer had to be restored.</returns>
    private async Task<bool> RestoreLost(Exception cause)
    {
        var plan = pipeline.Plan;
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(s_callTimeout);
        var alive = hosts.Keys.Select(s => s.ToParsableString()).ToHashSet(StringComparer.Ordinal);
        var controls = plan.Select(p => grains.GetGrain<ILayerControlGrain>($"{model}/{p.Layer}")).ToArray();

        // A layer whose silo left is asked first on the silo of its nearest surviving neighbour, so that, if this call
        // is what reactivates it, it lands beside the layers it exchanges activations with.
        var statuses = await Task.WhenAll(plan.Select(p => alive.Contains(p.Silo)
            ? controls[p.Layer].GetStatus().WaitAsync(s_callTimeout)
            : SiloTargetPlacement.TargetSilo(Neighbour(plan, p.Layer, alive).Silo, () => controls[p.Layer].GetStatus()).WaitAsync(s_callTimeout)));
        var lost = statuses.Select((s, layer) => (Status: s, Layer: layer)).Where(x => x.Status.Layer < 0).Select(x => x.Layer).ToArray();
        if (lost.Length == 0)
        {
            return false;
        }

        logger.LogWarning("Model {Model} lost layers {Layers} ({Cause}); restoring them from the model store", model, string.Join(",", lost), cause.Message);
        await Task.WhenAll(lost.Select(layer =>
        {
            // Where it now lives: the neighbour's device if they share the silo, else the silo's first device.
            string silo = statuses[layer].Silo;
            var neighbour = Neighbour(plan, layer, alive);
            int device = neighbour.Silo == silo ? neighbour.Device : 0;
            return SiloTargetPlacement.TargetSilo(silo, () => controls[layer].StartLoad(new LayerLoadRequest(directory, layer, device, dtype, Restore: true)));
        }));
        await Task.WhenAll(lost.Select(async layer =>
        {
            var status = await ClusterLayerRunner.WaitForJob(controls[layer], CancellationToken.None).WaitAsync(Deadline);
            if (status.State != JobState.Succeeded)
            {
                throw new InvalidOperationException($"layer {layer} did not load from the store: {status.Error ?? status.State.ToString()}");
            }
        }));

        var where = await Task.WhenAll(controls.Select(c => c.GetStatus().WaitAsync(s_callTimeout)));
        if (where.FirstOrDefault(s => s.Layer < 0) is { } empty)
        {
            // Another silo left while this one restored: the caller's retry looks again.
            throw new TimeoutException($"a layer of model '{model}' on {empty.Silo} is empty again after the restore");
        }

        pipeline.Replan(plan.Select(p => p with { Silo = where[p.Layer].Silo, Device = where[p.Layer].Device }).ToArray());
        foreach (int layer in lost)
        {
            logger.LogInformation("Model {Model} layer {Layer} restored on {Silo} device {Device} at version {Version}", model, layer, where[layer].Silo,
                where[layer].Device, where[layer].Version);
        }

        return true;
    }

    /// <summary>The placement of the surviving layer nearest to <paramref name="layer"/> (earlier first); the layer's own when none survives.</summary>
    private static LayerPlacement Neighbour(IReadOnlyList<LayerPlacement> plan, int layer, IReadOnlySet<string> alive)
    {
        for (int distance = 1; distance < plan.Count; distance++)
        {
            foreach (int other in new[] { layer - distance, layer + distance })
            {
                if (other >= 0 && other < plan.Count && alive.Contains(plan[other].Silo))
                {
                    return plan[other];
                }
            }
        }

        return plan[layer];
    }
}
