using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Model;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains;

/// <summary>
/// One decoder layer pinned to one device: it maps only its own tensors, runs its forward passes on the device's
/// stream, keeps the KV cache of every live sequence, collects calibration statistics as batches pass, and quantizes
/// itself. The full-precision weights stay on the host so that the layer can be re-quantized while it serves.
/// </summary>
[SiloTargetPlacement]
public sealed class LayerGrain(
    DeviceRegistry devices,
    ActivationStore activations,
    ILocalSiloDetails silo,
    IServiceProvider services,
    ILogger<LayerGrain> logger) : Grain, ILayerGrain
{
    private ComputeDeviceSlot? _slot;
    private DecoderLayer? _layer;
    private HostLayerWeights? _fullPrecision;
    private LayerCalibration? _calibration;
    private LayerLoadRequest? _request;
    private LayerState _state;
    private string? _recipe;
    private string? _error;
    private (DecoderLayerWeights Weights, string Recipe)? _pending;
    private long _kvBudget;

    private string Silo => silo.SiloAddress.ToParsableString();

    public async Task<LayerStatus> Load(LayerLoadRequest request)
    {
        _request = request;
        _slot = devices[request.Device];
        _kvBudget = request.KvCacheBudgetBytes;
        var device = _slot.Device;
        _layer = await _slot.Worker.Run(() =>
        {
            var config = ModelConfig.Load(Path.Combine(request.Directory, "config.json"));
            using var checkpoint = CheckpointReader.Open(request.Directory);
            var weights = DecoderLayerWeights.Load(new WeightLoader(checkpoint, device), config, request.Layer);
            return new DecoderLayer(request.Layer, config, weights, device);
        });

        bool quantized = LinearSlot.All.Any(s => s.Get(_layer.Weights) is Int8Linear);
        _state = quantized ? LayerState.Serving : LayerState.Loaded;
        logger.LogInformation("Layer {Layer} loaded on {Silo} device {Device} ({State})", request.Layer, Silo, request.Device, _state);
        return Status();
    }

    public async Task<ActivationPayload> Forward(LayerStep step)
    {
        var layer = Loaded();
        var slot = _slot!;
        if (step.Observe)
        {
            _calibration ??= new LayerCalibration(layer.Index, layer.Config);
            _state = LayerState.Calibrating;
        }

        var calibration = step.Observe ? _calibration : null;
        var batch = new ForwardBatch(step.Chunks.Select(c => new SequenceChunk(c.Sequence, c.Start, c.Length)).ToArray());
        return await slot.Worker.Run(() =>
        {
            using var active = LayerActivity.Enter();

            // Take the input first: a parked activation must be freed even when this step is refused.
            var hidden = Materialize(slot, step.Input);
            try
            {
                foreach (long ended in step.Ended)
                {
                    layer.EndSequence(ended);
                }

                if (step.Chunks.Any(c => c.Start == 0) && layer.KvCacheBytes > _kvBudget)
                {
                    throw new InvalidOperationException(
                        $"layer {layer.Index}: the KV cache holds {layer.KvCacheBytes} bytes, over its budget of {_kvBudget}; no new sequence fits until some finish");
                }

                layer.Forward(hidden, batch, calibration);
                if (step.KeepOnDevice)
                {
                    var handle = activations.Park(Silo, slot.Device.Info.Ordinal, hidden);
                    hidden = null;
                    return new ActivationPayload(batch.TokenCount, layer.Config.HiddenSize, null, handle);
                }

                return new ActivationPayload(hidden.Rows, hidden.Columns, hidden.ToArray<float>(), null);
            }
            finally
            {
                hidden?.Dispose();
            }
        });
    }

    public Task EndSequences(IReadOnlyList<long> sequences)
    {
        var layer = Loaded();
        return _slot!.Worker.Run(() =>
        {
            foreach (long id in sequences)
            {
                layer.EndSequence(id);
            }
        });
    }

    public Task<RequantizeResult> Quantize(string recipeYaml) => Rebuild(recipeYaml, onStream: true, commit: false);

    public async Task<int> CommitQuantization()
    {
        var layer = Loaded();
        var (weights, recipe) = _pending ?? throw new InvalidOperationException($"layer {layer.Index} has no quantized weights waiting; Quantize builds them");
        _pending = null;
        await _slot!.Worker.Run(() => layer.SwapWeights(weights).Dispose());
        _state = LayerState.Serving;
        _recipe = recipe;
        _error = null;
        return layer.Version;
    }

    public async Task DiscardQuantization()
    {
        if (_pending is { } pending)
        {
            _pending = null;
            await _slot!.Worker.Run(pending.Weights.Dispose);
        }

        _state = LinearSlot.All.Any(s => s.Get(Loaded().Weights) is Int8Linear) ? LayerState.Serving : LayerState.Loaded;
    }

    public Task<RequantizeResult> Requantize(string recipeYaml) => Rebuild(recipeYaml, onStream: false, commit: true);

    /// <summary>
    /// Builds new weights from the full-precision copy and the kept statistics, then (with <paramref name="commit"/>)
    /// swaps them in on the device's stream — between two forward passes — or holds them for a later commit.
    /// <paramref name="onStream"/> builds on the stream too (the initial quantization, nothing to serve meanwhile);
    /// otherwise the build runs beside the stream while it keeps serving.
    /// </summary>
    private async Task<RequantizeResult> Rebuild(string recipeYaml, bool onStream, bool commit)
    {
        var layer = Loaded();
        var slot = _slot!;
        var previous = _state;
        try
        {
            var recipe = string.IsNullOrWhiteSpace(recipeYaml) ? QuantizationRecipe.Default : RecipeReader.Parse(recipeYaml, "recipe");
            recipe.Validate("recipe");
            var calibration = _calibration
                ?? throw new InvalidOperationException($"layer {layer.Index} has no calibration statistics; run a calibration pass (ModelGrain.Quantize) first");
            _fullPrecision ??= await slot.Worker.Run(() => HostLayerWeights.Download(layer.Weights));
            var original = _fullPrecision;
            _state = LayerState.Quantizing;
            var injector = services.GetService<IQuantizationFaultInjector>();
            string model = this.GetPrimaryKeyString().Split('/')[0];
            Action<string> beforeLinear = module => injector?.BeforeLinear(model, layer.Index, module, recipeYaml);
            Func<(DecoderLayerWeights, LayerQuantizationReport)> build =
                () => LayerQuantizer.Quantize(layer.Index, original, calibration, recipe, slot.Device, beforeLinear);
            var (weights, report) = onStream ? await slot.Worker.Run(build) : await Task.Run(build);
            logger.LogInformation("Layer {Layer} quantized in {Seconds:F1}s: W8A8 error {Before:E2} -> {After:E2}",
                layer.Index, report.Duration.TotalSeconds, report.ErrorBefore, report.ErrorAfter);
            if (_pending is { } stale)
            {
                await slot.Worker.Run(stale.Weights.Dispose);
            }

            _pending = (weights, recipeYaml);
            int version = commit ? await CommitQuantization() : layer.Version + 1;
            return new RequantizeResult(layer.Index, true, version, null, report.ErrorBefore, report.ErrorAfter);
        }
        catch (Exception error)
        {
            // The old weights never left service; say what went wrong and keep serving them.
            _state = previous == LayerState.Calibrating ? LayerState.Loaded : previous;
            _error = error.Message;
            logger.LogWarning(error, "Layer {Layer} kept version {Version}: quantization failed", layer.Index, layer.Version);
            return new RequantizeResult(layer.Index, false, layer.Version, error.Message);
        }
    }

    public async Task<IReadOnlyList<NamedTensor>> ExportTensors()
    {
        var layer = Loaded();
        return await _slot!.Worker.Run(() => LayerTensors.Layer(layer.Index, layer.Weights)
            .Select(t => new NamedTensor(t.Name, t.Shape, t.Int8, t.Float32))
            .ToArray());
    }

    public Task<LayerStatus> GetStatus() => Task.FromResult(Status());

    private LayerStatus Status() => new(
        _layer?.Index ?? -1, Silo, _request?.Device ?? -1, _state, _layer?.Version ?? 0, _recipe, _error,
        _layer?.LiveSequences ?? 0, _layer?.KvCacheBytes ?? 0);

    private DecoderLayer Loaded() =>
        _layer ?? throw new InvalidOperationException($"layer grain {this.GetPrimaryKeyString()} has not been loaded; ModelGrain.Load loads it");

    private DeviceTensor Materialize(ComputeDeviceSlot slot, ActivationPayload payload)
    {
        if (payload.Handle is { } handle)
        {
            if (handle.Silo != Silo || handle.Device != slot.Device.Info.Ordinal)
            {
                throw new InvalidOperationException($"activation handle for device {handle.Device} of {handle.Silo} reached device {slot.Device.Info.Ordinal} of {Silo}");
            }

            return activations.Take(handle);
        }

        return slot.Device.UploadNew<float>(
            payload.Values ?? throw new ArgumentException("activation payload has neither values nor a handle"), payload.Rows, payload.Columns);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_layer is { } layer && _slot is { } slot)
        {
            return slot.Worker.Run(layer.Dispose);
        }

        return Task.CompletedTask;
    }
}
