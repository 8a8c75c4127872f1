using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Store;

namespace OrleansQuant.Grains.Layers;

/// <summary>
/// One decoder layer pinned to one device: it maps only its own tensors, runs its forward passes on the device's
/// stream (and hands the activation to the next layer of its stage without it leaving the device), keeps the KV
/// cache of every live sequence, collects calibration statistics as batches pass, and builds quantized weights beside
/// the serving ones as a background job. The full-precision weights stay on the host for later re-quantization.
/// Kept alive while its model is loaded. Should it die with its silo, its <see cref="LayerRecord"/> (grain state) names
/// its committed version's shard in the <see cref="ModelStore"/>, and its coordinator's restoring load brings it back
/// at that version without calibrating or quantizing again.
/// </summary>
[SiloTargetPlacement]
[KeepAlive]
public sealed class LayerGrain(
    DeviceRegistry devices,
    ActivationStore activations,
    CpuComputeBudget budget,
    ILocalSiloDetails silo,
    IServiceProvider services,
    IOptions<OrleansQuantOptions> options,
    ModelStore store,
    [PersistentState("layer", StoreOptions.StorageName)] IPersistentState<LayerRecord> record,
    ILogger<LayerGrain> logger) : Grain, ILayerGrain, ILayerControlGrain
{
    private FullPrecisionPlacement Placement => OrleansQuantOptions.ParsePlacement(options.Value.FullPrecisionCopy);

    private LoadedLayer? _loaded;
    private LayerJob? _job;

    // The sequences whose KV cache this layer holds, touched only on the device's worker. A coordinator that
    // reactivates (its silo died) starts its own sequences; what the old one left here is dropped by its restoring load.
    private readonly HashSet<long> _sequences = new();

    // The layer's first full-precision weights, the source of every build once a build has used them: a re-quantization
    // after a commit starts from them, not from the int8 weights in service. On the device or parked in host memory, as
    // the silo's FullPrecisionCopy setting says. Freed on unload.
    private FullPrecisionCopy? _fullPrecision;
    private LayerCalibration? _calibration;
    private (DecoderLayerWeights Weights, string Recipe, StoredLayerShard Shard)? _pending;

    // The version the layer came back at from the store: DecoderLayer counts its swaps from 0 in every activation.
    private int _restoredVersion;
    private LayerState _state;
    private string? _recipe;
    private string? _error;

    /// <summary>What a loaded layer grain holds, set once when its load job ends.</summary>
    private sealed record LoadedLayer(DecoderLayer Layer, ComputeDeviceSlot Slot, int Device, string Model)
    {
        // The step-time histogram's tags, made (and the index boxed) once, not per step.
        public TagList StepTags { get; } = new()
        {
            OrleansQuantMetrics.Model(Model),
            { OrleansQuantMetrics.LayerTag, Layer.Index },
        };
    }

    private string SiloAddress => silo.SiloAddress.ToParsableString();

    private string ModelName => this.GetPrimaryKeyString().Split('/')[0];

    public Task StartLoad(LayerLoadRequest request)
    {
        if (_loaded is { } alive && request.Restore)
        {
            return DropOrphanedSequences(alive);
        }

        if (_loaded is not null || _job is { IsRunning: true, Kind: "load" })
        {
            return Task.CompletedTask;
        }

        var slot = devices[request.Device];
        var stored = Stored(request);
        var injector = services.GetService<IQuantizationFaultInjector>();
        string model = ModelName;
        _job = LayerJob.Start("load", 1, async (job, cancellation) =>
        {
            var precision = WeightPrecisions.Parse(request.DType);
            var (layer, fullPrecision) = await slot.Worker.Run(() =>
            {
                injector?.BeforeLoad(model, request.Layer, cancellation);
                using var checkpoint = ModelSource.Open(request.Directory, precision);
                var kv = precision.StorageOn(slot.Device);
                if (stored is null)
                {
                    return (new DecoderLayer(request.Layer, checkpoint.Config, checkpoint.LoadLayer(request.Layer, slot.Device), slot.Device, kv), (FullPrecisionCopy?)null);
                }

                // The committed version from the store (its checksum checked first); the source's full-precision weights
                // again as the source of a later re-quantization, kept where this silo keeps them after a commit.
                var weights = store.Load(stored, checkpoint.Config, request.Layer, slot.Device, precision);
                FullPrecisionCopy? copy = null;
                try
                {
                    var original = checkpoint.LoadLayer(request.Layer, slot.Device);
                    if (IsQuantized(original))
                    {
                        original.Dispose();
                    }
                    else
                    {
                        copy = FullPrecisionCopy.Of(original);
                        copy.LeftService(slot.Device, Placement);
                    }

                    return (new DecoderLayer(request.Layer, checkpoint.Config, weights, slot.Device, kv), copy);
                }
                catch
                {
                    weights.Dispose();
                    copy?.Dispose();
                    throw;
                }
            });
            _loaded = new LoadedLayer(layer, slot, request.Device, ModelName);
            _fullPrecision = fullPrecision;
            if (stored is not null)
            {
                _restoredVersion = record.State.Version;
                _recipe = record.State.RecipeYaml;
                _state = LayerState.Serving;
            }
            else
            {
                _state = IsQuantized(layer.Weights) ? LayerState.Serving : LayerState.Loaded;
            }

            // A plain load starts the layer's record afresh: the store's earlier versions belong to an earlier load.
            record.State = new LayerRecord
            {
                Model = ModelName, Layer = request.Layer, Version = Version(layer), RecipeYaml = _recipe, SourceCheckpoint = request.Directory,
                DType = request.DType, Device = request.Device,
                Sha256 = stored?.Sha256, ShardPath = stored?.Path, ShardBytes = stored?.Bytes ?? 0,
            };
            await record.WriteStateAsync();
            if (stored is null)
            {
                store.DeleteOtherVersions(ModelName, request.Layer, keep: 0);
            }

            job.Advance();
            logger.LogInformation("Layer {Layer} loaded on {Silo} device {Device} ({State}, version {Version}{From})", request.Layer, SiloAddress, request.Device, _state,
                Version(layer), stored is null ? "" : " from the model store");
            return null;
        });
        return Task.CompletedTask;
    }

    /// <summary>
    /// A restoring load that finds this layer loaded comes from a coordinator that lost its model (it reactivated after
    /// its silo died): no sequence of its predecessor lives on, so their KV caches are freed rather than left to hold
    /// memory for ever.
    /// </summary>
    private async Task DropOrphanedSequences(LoadedLayer loaded)
    {
        int dropped = await loaded.Slot.Worker.Run(() =>
        {
            int count = _sequences.Count;
            foreach (long id in _sequences)
            {
                loaded.Layer.EndSequence(id);
            }

            _sequences.Clear();
            return count;
        });
        if (dropped > 0)
        {
            logger.LogInformation("Layer {Layer} dropped the KV cache of {Count} sequences of a previous coordinator", loaded.Layer.Index, dropped);
        }
    }

    /// <summary>
    /// The committed shard a restoring load brings back: only when the record is this model's layer, loaded from the same
    /// checkpoint as the same dtype (else the shard would be of another model's weights), and a build was committed.
    /// </summary>
    private StoredLayerShard? Stored(LayerLoadRequest request)
    {
        var state = record.State;
        if (!request.Restore || state.Model != ModelName || state.Layer != request.Layer || state.ShardPath is null || state.Sha256 is null
            || state.SourceCheckpoint != request.Directory || !string.Equals(state.DType, request.DType, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return new StoredLayerShard(state.ShardPath, state.Sha256, state.ShardBytes);
    }

    /// <summary>The version a client sees: the store's version it came back at, plus the commits since.</summary>
    private int Version(DecoderLayer layer) => _restoredVersion + layer.Version;

    public async Task<StageOutput> Forward(StageStep step)
    {
        var loaded = Loaded();
        var (layer, slot, _, _) = loaded;
        if (step.Observe)
        {
            // Its statistics are device memory, allocated in the device's stream order like everything else.
            _calibration ??= await slot.Worker.Run(() => LayerCalibration.For(layer, _fullPrecision));
            _state = LayerState.Calibrating;
        }

        var calibration = step.Observe ? _calibration : null;
        var weights = step.UsePending
            ? _pending?.Weights ?? throw new InvalidOperationException($"layer {layer.Index} holds no built weights to run; StartBuild makes them")
            : null;
        bool lastOfStage = step.Through <= layer.Index;
        var batch = new ForwardBatch(step.Chunks.Select(c => new SequenceChunk(c.Sequence, c.Start, c.Length)).ToArray());
        // Compute: this layer's device work, timed on the worker. The stage's last layer downloads its output, which waits
        // for every kernel the stage queued on the stream; a layer that parks its output does not wait, so on a GPU the
        // stage's sum, not one layer's share, is the device time.
        var (output, version, compute) = await slot.Worker.Run(() =>
        {
            long started = Stopwatch.GetTimestamp();
            using var active = LayerActivity.Enter();

            // Take the input first: a parked activation must be freed even when this step fails.
            var hidden = Materialize(slot, step.Input, layer.ActivationType);
            try
            {
                foreach (long ended in step.Ended)
                {
                    layer.EndSequence(ended);
                    _sequences.Remove(ended);
                }

                foreach (var chunk in batch.Chunks)
                {
                    _sequences.Add(chunk.SequenceId);
                }

                int version = weights is null ? Version(layer) : Version(layer) + 1;
                layer.Forward(hidden, batch, calibration, weights);
                if (!lastOfStage || step.KeepOnDevice)
                {
                    var handle = activations.Park(SiloAddress, slot.Device.Info.Ordinal, hidden);
                    hidden = null;
                    return (new ActivationPayload(batch.TokenCount, layer.Config.HiddenSize, null, handle), version, Stopwatch.GetElapsedTime(started));
                }

                var values = Values(slot.Device, hidden, step.ReturnRows);
                return (values, version, Stopwatch.GetElapsedTime(started));
            }
            finally
            {
                hidden?.Dispose();
            }
        });

        if (!step.Observe)
        {
            OrleansQuantMetrics.LayerStepTime.Record(compute.TotalSeconds, loaded.StepTags);
        }

        if (lastOfStage)
        {
            return new StageOutput(output, [version], compute);
        }

        var rest = await GrainFactory.GetGrain<ILayerGrain>($"{ModelName}/{layer.Index + 1}").Forward(step with { Input = output });
        return new StageOutput(rest.Hidden, [version, .. rest.Versions], compute + rest.Compute);
    }

    public Task EndSequences(IReadOnlyList<long> sequences)
    {
        var (layer, slot, _, _) = Loaded();
        return slot.Worker.Run(() =>
        {
            foreach (long id in sequences)
            {
                layer.EndSequence(id);
                _sequences.Remove(id);
            }
        });
    }

    public async Task BeginCalibration()
    {
        var (layer, slot, _, _) = Loaded();
        var previous = _calibration;
        _calibration = await slot.Worker.Run(() =>
        {
            // Statistics are the largest thing a layer allocates: first give back a KV pool that self-calibration grew
            // (17 GB over an 8B model's layers), unless sequences are still being served.
            long freed = layer.TrimKvCache();
            if (freed > 0)
            {
                logger.LogDebug("Layer {Layer} gave {Bytes} bytes of idle KV cache back before calibration", layer.Index, freed);
            }

            return LayerCalibration.For(layer, _fullPrecision);
        });
        if (previous is null)
        {
            return;
        }

        // A build still running reads the old statistics: they are freed when it ends, not under it.
        if (_job is { IsRunning: true } job)
        {
            _ = job.Completion.ContinueWith(_ => slot.Worker.Run(previous.Dispose), TaskScheduler.Default);
        }
        else
        {
            await slot.Worker.Run(previous.Dispose);
        }
    }

    public Task StartBuild(string recipeYaml)
    {
        var (layer, slot, _, _) = Loaded();
        RefuseWhileBusy(layer);

        var recipe = string.IsNullOrWhiteSpace(recipeYaml) ? QuantizationRecipe.Default : RecipeReader.Parse(recipeYaml, "recipe");
        recipe.Validate("recipe");
        var calibration = _calibration
            ?? throw new InvalidOperationException($"layer {layer.Index} has no calibration statistics; quantize the model (a calibration pass) first");
        var injector = services.GetService<IQuantizationFaultInjector>();
        string model = ModelName;
        var previous = _state;
        _state = LayerState.Quantizing;
        _job = LayerJob.Start("build", LinearSlot.All.Count, async (job, cancellation) =>
        {
            try
            {
                var source = _fullPrecision ??= FullPrecisionCopy.Of(layer.Weights);
                var (weights, report) = await DeviceBuildQueue.Run(slot, budget, () => source.Use(slot.Device, original =>
                    LayerQuantizer.Quantize(layer.Index, original, calibration, recipe, slot.Device, module =>
                    {
                        cancellation.ThrowIfCancellationRequested();
                        injector?.BeforeLinear(model, layer.Index, module, recipeYaml, cancellation);
                        job.Advance();
                    })), cancellation);
                if (cancellation.IsCancellationRequested)
                {
                    await slot.Worker.Run(weights.Dispose);
                    cancellation.ThrowIfCancellationRequested();
                }

                // Written once, here in the build job and not in Commit, so a commit stays a short call: the shard of the
                // version a commit would make, which the layer's record names only once the commit is made.
                StoredLayerShard shard;
                try
                {
                    shard = await slot.Worker.Run(() => store.Write(model, layer.Index, Version(layer) + 1, weights));
                }
                catch
                {
                    await slot.Worker.Run(weights.Dispose);
                    throw;
                }

                await DropPending();
                _pending = (weights, recipeYaml, shard);
                _state = previous == LayerState.Calibrating ? LayerState.Loaded : previous;
                logger.LogInformation("Layer {Layer} built W8A8 weights in {Seconds:F1}s: error {Before:E2} -> {After:E2}",
                    layer.Index, report.Duration.TotalSeconds, report.ErrorBefore, report.ErrorAfter);
                return new LayerBuildReport(layer.Index, report.Duration.TotalSeconds,
                    report.Linears.Select(l => new LinearReport(l.Module, l.WeightLoss, l.BaselineError, l.W8A8Error)).ToArray());
            }
            catch (Exception error)
            {
                // The serving weights never left service; say what went wrong and keep serving them.
                _state = previous == LayerState.Calibrating ? LayerState.Loaded : previous;
                if (error is not OperationCanceledException)
                {
                    _error = error.Message;
                    logger.LogWarning("Layer {Layer} keeps version {Version}: quantization failed: {Error}", layer.Index, Version(layer), error.Message);
                }

                throw;
            }
        });
        return Task.CompletedTask;
    }

    public Task<LayerJobStatus> WaitJob(TimeSpan wait) =>
        _job?.Wait(wait) ?? Task.FromResult(new LayerJobStatus("none", JobState.Succeeded, 0, 0, 0));

    public Task CancelJob()
    {
        _job?.Cancel();
        return Task.CompletedTask;
    }

    public async Task<int> Commit()
    {
        var loaded = Loaded();
        var (layer, slot, _, _) = loaded;
        var (weights, recipe, shard) = _pending ?? throw new InvalidOperationException($"layer {layer.Index} has no built weights waiting; StartBuild makes them");

        // The record names the new version before it serves: a failed write leaves the old version serving and recorded.
        var committed = record.State;
        record.State = new LayerRecord
        {
            Model = ModelName, Layer = layer.Index, Version = Version(layer) + 1, RecipeYaml = recipe, Sha256 = shard.Sha256, ShardPath = shard.Path,
            ShardBytes = shard.Bytes, SourceCheckpoint = committed.SourceCheckpoint, DType = committed.DType, Device = loaded.Device,
        };
        try
        {
            await record.WriteStateAsync();
        }
        catch
        {
            record.State = committed;
            throw;
        }

        _pending = null;
        await slot.Worker.Run(() =>
        {
            // The full-precision weights leave service but stay as the source of the next build.
            if (FullPrecisionCopy.Retire(_fullPrecision, layer.SwapWeights(weights), slot.Device, Placement) is { } kept)
            {
                logger.LogInformation("Layer {Layer} keeps its full-precision weights {Where} for re-quantization", layer.Index,
                    kept == FullPrecisionPlacement.Host ? "in host memory" : "on its device");
            }
        });
        _state = LayerState.Serving;
        _recipe = recipe;
        _error = null;
        store.DeleteOtherVersions(ModelName, layer.Index, Version(layer));
        return Version(layer);
    }

    public async Task Discard()
    {
        _job?.Cancel();
        if (_job is { } job)
        {
            await job.Completion.ContinueWith(_ => { }, TaskScheduler.Current);
        }

        await DropPending();
        if (_loaded is { } loaded)
        {
            _state = IsQuantized(loaded.Layer.Weights) ? LayerState.Serving : LayerState.Loaded;
        }
    }

    public Task StartWriteShard(string directory, int layerCount)
    {
        var (layer, slot, _, _) = Loaded();
        RefuseWhileBusy(layer);
        var injector = services.GetService<IQuantizationFaultInjector>();
        string model = ModelName;
        _job = LayerJob.Start("save", 1, async (job, cancellation) =>
        {
            var shard = await slot.Worker.Run(() =>
            {
                injector?.BeforeWriteShard(model, layer.Index, cancellation);
                return QuantizedCheckpointWriter.WriteLayerShard(directory, layer.Index, layerCount, layer.Weights);
            });
            job.Advance();
            return new LayerShard(shard.FileName, shard.TensorNames, shard.TotalBytes);
        });
        return Task.CompletedTask;
    }

    public Task<LayerStatus> GetStatus() => Task.FromResult(new LayerStatus(
        _loaded?.Layer.Index ?? -1, SiloAddress, _loaded?.Device ?? -1, _state, _loaded is { } loaded ? Version(loaded.Layer) : 0, _recipe, _error,
        _loaded?.Layer.LiveSequences ?? 0, _loaded?.Layer.KvCacheBytes ?? 0));

    private async Task DropPending()
    {
        if (_pending is { } pending && _loaded is { } loaded)
        {
            _pending = null;
            await loaded.Slot.Worker.Run(pending.Weights.Dispose);
        }
    }

    private void RefuseWhileBusy(DecoderLayer layer)
    {
        if (_job is { IsRunning: true } running)
        {
            throw new InvalidOperationException($"layer {layer.Index} is busy with a {running.Kind} job; wait for it or cancel it first");
        }
    }

    private static bool IsQuantized(DecoderLayerWeights weights) => LinearSlot.All.Any(s => s.Get(weights) is Int8Linear);

    private LoadedLayer Loaded() =>
        _loaded ?? throw new InvalidOperationException($"layer grain {this.GetPrimaryKeyString()} has not been loaded; the model's load job loads it");

    private DeviceTensor Materialize(ComputeDeviceSlot slot, ActivationPayload payload, TensorType type)
    {
        if (payload.Handle is { } handle)
        {
            if (handle.Silo != SiloAddress || handle.Device != slot.Device.Info.Ordinal)
            {
                throw new InvalidOperationException($"activation handle for device {handle.Device} of {handle.Silo} reached device {slot.Device.Info.Ordinal} of {SiloAddress}");
            }

            return ActivationPayloads.As(slot.Device, activations.Take(handle), type);
        }

        return ActivationPayloads.Upload(slot.Device, payload, type);
    }

    /// <summary>The values of <paramref name="rows"/> of <paramref name="hidden"/> (all rows when null), for the coordinator.</summary>
    private static ActivationPayload Values(IComputeDevice device, DeviceTensor hidden, int[]? rows)
    {
        if (rows is null)
        {
            return ActivationPayloads.Of(hidden);
        }

        using var selected = device.Allocate(hidden.Type, rows.Length, hidden.Columns);
        for (int i = 0; i < rows.Length; i++)
        {
            device.CopyRows(hidden, rows[i], selected, i, 1);
        }

        return ActivationPayloads.Of(selected);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _job?.Cancel();
        if (_loaded is { } loaded)
        {
            await loaded.Slot.Worker.Run(() =>
            {
                loaded.Layer.Dispose();
                _pending?.Weights.Dispose();

                // Out of service (a commit swapped them out) they are only ours; in service the layer freed them above.
                _fullPrecision?.Dispose();
                _fullPrecision = null;
                _calibration?.Dispose();
            });
        }
    }
}
