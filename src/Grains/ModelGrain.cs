using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Coordinator;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Hosting;
using OrleansQuant.Grains.Telemetry;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains;

/// <summary>
/// The coordinator of one model. Each request is checked here, at once; long work runs as a job (<see cref="JobBoard"/>)
/// whose pieces live in their own types: placement and loading (<see cref="ModelLoader"/>), quantization (the
/// <see cref="QuantizationEngine"/> over a <see cref="ClusterPipeline"/>), generation (<see cref="GenerationScheduler"/>)
/// and checkpoints (<see cref="CheckpointExport"/>). Reentrant: jobs, generation lanes, watchers and status queries
/// interleave on the grain's one thread. Kept alive: it holds the loaded model. As <see cref="IServingTimesGrain"/> it
/// reports what its generation hops cost. What it takes to load the model again lives in its <see cref="ModelRecord"/>
/// (grain state): a coordinator that reactivates — its silo died, or the cluster restarted — starts a restoring load at
/// once, and its layers come back from the model store at their committed versions, without calibrating again.
/// </summary>
[Reentrant]
[KeepAlive]
public sealed class ModelGrain(IGrainFactory grains, DeviceRegistry devices, ActivationStore activations, ILocalSiloDetails silo,
    [PersistentState("model", StoreOptions.StorageName)] IPersistentState<ModelRecord> record, ILogger<ModelGrain> logger)
    : Grain, IModelGrain, IServingTimesGrain
{
    /// <summary>How long a call that needs the model waits for a restoring load before it says the model is still loading.</summary>
    internal static readonly TimeSpan RestoreWait = TimeSpan.FromSeconds(20);

    private readonly JobBoard _jobs = new(logger);
    private LoadedModel? _model;
    private ModelJob? _load;
    private ModelJob? _weights;
    private Task _restoring = Task.CompletedTask;

    private string Name => this.GetPrimaryKeyString();

    public Task<JobInfo> StartLoad(LoadModelRequest request)
    {
        if (_load is { } load && (load.State is JobState.Running or JobState.Succeeded))
        {
            // A second load joins the first (or finds it done) instead of loading every layer twice.
            return Task.FromResult(load.Info());
        }

        ServiceProvider.GetRequiredService<PathRoots>().CheckModel(request.Model);
        ModelDirectory.Check(request.Model);
        if (request.MaxDevices is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), $"MaxDevices must be ≥ 1; got {request.MaxDevices}");
        }

        _load = _jobs.Start("load", async job =>
        {
            var model = await LoadAcrossSiloLoss(request, job, restore: false);
            record.State = new ModelRecord
            {
                Checkpoint = model.Directory, DType = request.DType, KvCacheBudgetBytes = request.KvCacheBudgetBytes, MaxDevices = request.MaxDevices,
            };
            await record.WriteStateAsync();
            _model = model;
            await Catalogue();
        });
        return Task.FromResult(_load.Info());
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (record.State.Checkpoint is not { } checkpoint)
        {
            return Task.CompletedTask;
        }

        // A load of the recorded checkpoint, restoring: it runs as the load job, so a client's StartLoad joins it.
        var request = new LoadModelRequest(checkpoint, record.State.KvCacheBudgetBytes, record.State.MaxDevices, record.State.DType);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _restoring = restored.Task;
        _load = _jobs.Start("load", async job =>
        {
            try
            {
                logger.LogInformation("Model {Model} reactivated with a record: restoring {Checkpoint} (quantized: {Quantized})", Name, checkpoint, record.State.Quantized);
                var model = await LoadAcrossSiloLoss(request, job, restore: true);
                model.RecipeYaml = record.State.RecipeYaml;
                _model = model;

                // A record written before the catalog existed is listed from now on.
                await Catalogue();
            }
            finally
            {
                restored.TrySetResult();
            }
        });
        return Task.CompletedTask;
    }

    /// <summary>
    /// A load, tried again while silos leave under it. A silo that dies takes the layers it was loading with it, and until
    /// the cluster declares it dead neither it nor a layer still registered there can be reached; the next attempt plans
    /// over the silos that are there, and layers already loaded answer at once. A restoring load meets this when this
    /// coordinator reactivated (its own silo died) before the dead silo was declared dead. An attempt is tried again
    /// when it failed as a call to a lost silo fails, or when a silo active as it began is active no more; bounded by
    /// <see cref="LayerRecovery.Deadline"/>. Any other failure is the load's own.
    /// </summary>
    private async Task<LoadedModel> LoadAcrossSiloLoss(LoadModelRequest request, ModelJob job, bool restore)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            var active = await ActiveSilos();
            try
            {
                var model = await ModelLoader.Load(Name, request, job, grains, devices, new HeadSite(silo.SiloAddress.ToParsableString(), activations), logger, restore);
                if (restore)
                {
                    logger.LogInformation("Model {Model} restored on {Silo} in {Seconds:F2} s ({Attempts} attempts)", Name, silo.SiloAddress, clock.Elapsed.TotalSeconds, attempt);
                    OrleansQuantMetrics.ModelRestoreTime.Record(clock.Elapsed.TotalSeconds, OrleansQuantMetrics.Model(Name));
                }

                return model;
            }
            catch (Exception error) when (clock.Elapsed < LayerRecovery.Deadline && error is not OperationCanceledException && !job.Cancellation.IsCancellationRequested)
            {
                if (!LayerRecovery.IsSiloLoss(error) && error is not TimeoutException && active.IsSubsetOf(await ActiveSilos()))
                {
                    throw;
                }

                logger.LogInformation("Model {Model}: {Kind} load attempt {Attempt} met a silo that is gone ({Error}); trying again on the silos there are",
                    Name, restore ? "restoring" : "first", attempt, error.Message);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private async Task<HashSet<string>> ActiveSilos() =>
        (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys.Select(s => s.ToParsableString()).ToHashSet(StringComparer.Ordinal);

    public Task<JobInfo> StartQuantize(QuantizeRequest request)
    {
        var model = Loaded();
        var recipe = Recipe(request.RecipeYaml, model);
        var options = new CalibrationOptions(request.SampleCount, request.MaxTokens, request.Seed);
        options.Validate();
        ServiceProvider.GetRequiredService<PathRoots>().CheckCalibration(request.Calibration);
        var mode = request.Mode == ClusterQuantizationMode.Sequential ? QuantizationMode.Sequential : QuantizationMode.LayerParallel;
        return StartWeightsJob("quantize", async job =>
        {
            // The gauge restarts at 0 with the job, not at the previous job's 1, while calibration runs.
            QuantizationProgressBoard.Report(Name, 0, model.Pipeline.LayerCount);
            var samples = request.Samples
                ?? (string.Equals(request.Calibration, "self", StringComparison.OrdinalIgnoreCase)
                    ? await ClusterSelfCalibration.Draw(model, options, job)
                    : CalibrationData.Load(request.Calibration, model.Tokenizer, options));
            await SiloLossRetry.Run(Name, model.Scheduler.Recovery, job, logger,
                () => QuantizationEngine.Run(model.Pipeline, samples, recipe, mode, new JobProgress(job, Name), job.Cancellation));
            model.RecipeYaml = RecipeWriter.ToYaml(recipe);
            record.State.Quantized = true;
            record.State.RecipeYaml = model.RecipeYaml;
            await record.WriteStateAsync();
        });
    }

    public Task<JobInfo> StartRequantize(int layer, string recipeYaml)
    {
        var model = Loaded();
        if ((uint)layer >= (uint)model.Pipeline.LayerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} does not exist; '{Name}' has {model.Pipeline.LayerCount}");
        }

        var recipe = Recipe(recipeYaml, model);
        return StartWeightsJob("requantize", async job =>
        {
            var runner = model.Pipeline.Layer(layer);
            job.Report(new JobEvent("quantize", 0, 1, 0, layer));
            LayerQuantizationReport report;
            try
            {
                report = await runner.Build(recipe, job.Cancellation);
            }
            catch
            {
                await runner.Discard();
                throw;
            }

            int version = await runner.Commit();
            job.Report(new JobEvent("quantize", 1, 1, 0, layer, report.ErrorBefore, report.ErrorAfter, report.Duration.TotalSeconds, $"version {version}"));
        });
    }

    public Task<JobInfo> StartSave(string directory)
    {
        var model = Loaded();
        ServiceProvider.GetRequiredService<PathRoots>().CheckWrite(directory, "save directory");
        CheckpointExport.CheckTarget(directory, model.Directory);
        return Task.FromResult(_jobs.Start("save", job =>
            SiloLossRetry.Run(Name, model.Scheduler.Recovery, job, logger, () => CheckpointExport.Save(model, directory, job))).Info());
    }

    public IAsyncEnumerable<JobEvent> WatchJob(string jobId, int from = 0) => _jobs.Get(jobId).Watch(from);

    public Task<JobInfo> GetJob(string jobId) => Task.FromResult(_jobs.Get(jobId).Info());

    public Task<JobInfo> CancelJob(string jobId)
    {
        var job = _jobs.Get(jobId);
        job.Cancel();
        return Task.FromResult(job.Info());
    }

    public async IAsyncEnumerable<GeneratedToken> Generate(GenerateRequest request)
    {
        // A generation waits for a restoring load whole (its own deadline bounds it): it is what a client resuming
        // a stream after this coordinator's silo died comes back to. The stream's heartbeats keep the call alive meanwhile.
        await _restoring;
        var model = Loaded();
        var member = model.Scheduler.Admit(OrleansQuant.Model.Generation.GenerationLimits.Checked(model.ToGeneration(request), model.Config));
        try
        {
            await foreach (var token in member.Output.Reader.ReadAllAsync())
            {
                yield return token;
            }
        }
        finally
        {
            member.Abandon();
        }
    }

    public async Task<ModelStatus> GetStatus()
    {
        await Restored();
        var jobs = _jobs.All.Select(j => j.Info()).ToArray();
        if (_model is not { } model)
        {
            return _load is not null
                ? new ModelStatus(Name, "", [], [], 0, jobs)
                : throw new InvalidOperationException($"model '{Name}' is not loaded; load it first");
        }

        var layers = await Task.WhenAll(model.Pipeline.Controls.Select(l => l.GetStatus()));
        return new ModelStatus(Name, model.Directory, layers, model.Devices, model.Scheduler.ActiveSequences, jobs);
    }

    public async Task RestoreLostLayers()
    {
        // A coordinator this call reactivated restores everything in its load job: wait for it (its own deadline bounds it).
        await _restoring;
        if (_model is { } model)
        {
            var recovery = model.Scheduler.Recovery;
            await recovery.Recover(new SiloUnavailableException($"a silo left the cluster; checking the layers of model '{Name}'"), recovery.Epoch);
        }
    }

    public Task<TokenizerInfo> GetTokenizerInfo() => Task.FromResult(Loaded().TokenizerInfo());

    public Task<int[]> Tokenize(string? text, IReadOnlyList<ChatTurn>? messages, bool addSpecialTokens) =>
        Task.FromResult(Loaded().PromptIds(text, messages, addSpecialTokens));

    public Task<string> Detokenize(int[] ids)
    {
        var model = Loaded();
        model.CheckIds(ids, "token ids");
        return Task.FromResult(model.Tokenizer.Decode(ids));
    }

    public Task<ServingTimes> GetServingTimes() => Task.FromResult(Loaded().Pipeline.Hops.Snapshot());

    public Task ResetServingTimes()
    {
        Loaded().Pipeline.Hops.Reset();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Lists this model in the catalog, so a silo's death wakes it (<see cref="RestoreLostLayers"/>). A catalog that
    /// cannot be reached costs only that: the model serves, and the next load or restore lists it.
    /// </summary>
    private async Task Catalogue()
    {
        try
        {
            await grains.GetGrain<IModelCatalogGrain>(0).Add(Name);
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "Model {Model} could not be listed in the model catalog; a silo's loss will not wake it until it is", Name);
        }
    }

    /// <summary>Quantization and re-quantization change weights: one such job at a time.</summary>
    private Task<JobInfo> StartWeightsJob(string kind, Func<ModelJob, Task> work)
    {
        if (_weights is { State: JobState.Running } running)
        {
            throw new InvalidOperationException($"model '{Name}' is busy with job {running.Id}; wait for it or cancel it");
        }

        _weights = _jobs.Start(kind, work);
        return Task.FromResult(_weights.Info());
    }

    private static QuantizationRecipe Recipe(string yaml, LoadedModel model)
    {
        var recipe = string.IsNullOrWhiteSpace(yaml) ? QuantizationRecipe.Default : RecipeReader.Parse(yaml, "recipe");
        LayerQuantizer.Validate(recipe, model.Pipeline.LayerCount);
        return recipe;
    }

    /// <summary>Waits a bounded time for a restoring load, so the first call after a reactivation finds the model back.</summary>
    private Task Restored() => _restoring.IsCompleted ? Task.CompletedTask : Task.WhenAny(_restoring, Task.Delay(RestoreWait));

    private LoadedModel Loaded() =>
        _model ?? throw new InvalidOperationException(_load is { State: JobState.Running } load
            ? $"model '{Name}' is still loading (job {load.Id}, {load.Info().Done}/{load.Info().Total} layers)"
            : $"model '{Name}' is not loaded; load it first");

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Its streams end here, before the head they step through is gone, with the error of a silo going away: that
        // is what it is to a client (this activation will not answer again; the next call reaches a new one), and what
        // the SDK resumes a greedy generation from.
        _model?.Scheduler.Abort(new SiloUnavailableException($"the coordinator of model '{Name}' was deactivated ({reason.Description}); call again to reach its next activation"));
        _model?.Head.Dispose();
        return Task.CompletedTask;
    }
}
