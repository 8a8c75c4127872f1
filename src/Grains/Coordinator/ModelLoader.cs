using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The load job: plans where a model's layers go over the cluster's devices, starts every layer grain loading its own
/// tensors on its silo, waits for them in bounded calls (reporting each as it lands), then loads the embedding and
/// head on the coordinator's device. A restoring load (<paramref name="restore"/>) is the same job after the coordinator
/// lost its model: layers that survived answer at once, the others come back from the model store at their committed
/// versions; the pipeline is then built on where each layer actually is, not where the fresh plan wished it.
/// </summary>
internal static class ModelLoader
{
    public static async Task<LoadedModel> Load(string name, LoadModelRequest request, ModelJob job, IGrainFactory grains, DeviceRegistry devices, HeadSite site,
        ILogger logger, bool restore = false)
    {
        string directory = ModelDirectory.Resolve(request.Model);
        var precision = WeightPrecisions.Parse(request.DType);
        ModelConfig config;
        using (var checkpoint = ModelSource.Open(directory, precision))
        {
            // Config and quantization_config are checked here, once, before any layer is placed.
            config = checkpoint.Config;
        }

        var tokenizer = ModelTokenizer.Load(directory);

        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var silos = await Task.WhenAll(hosts.Keys.Select(silo =>
            SiloTargetPlacement.TargetSilo(silo.ToParsableString(), () => grains.GetGrain<IDeviceHostGrain>(silo.ToParsableString()).GetDevices())));
        var plan = PlacementPlanner.Plan(config.NumHiddenLayers, Limit(silos, request.MaxDevices), EstimateLayerBytes(config));

        job.Report(new JobEvent("load", 0, plan.Count, 0));
        var controls = plan.Select(p => grains.GetGrain<ILayerControlGrain>($"{name}/{p.Layer}")).ToArray();
        await Task.WhenAll(plan.Select(p => SiloTargetPlacement.TargetSilo(p.Silo, () =>
            controls[p.Layer].StartLoad(new LayerLoadRequest(directory, p.Layer, p.Device, precision.Name(), restore)))));
        int loaded = 0;
        await Task.WhenAll(controls.Select(async (control, layer) =>
        {
            var status = await ClusterLayerRunner.WaitForJob(control, job.Cancellation);
            if (status.State != JobState.Succeeded)
            {
                throw new InvalidOperationException($"layer {layer} did not load: {status.Error ?? status.State.ToString()}");
            }

            job.Report(new JobEvent("load", ++loaded, plan.Count, 0, layer));
        }));

        // A layer that outlived its coordinator stays where it is: stages and on-device hand-offs follow the layers' own word.
        var where = await Task.WhenAll(controls.Select(c => c.GetStatus()));
        plan = plan.Select(p => p with { Silo = where[p.Layer].Silo, Device = where[p.Layer].Device }).ToArray();

        var hops = new HopRecorder();
        var head = await CoordinatorHead.Load(directory, precision, devices.Head, site, hops);
        var pipeline = new ClusterPipeline(name, config, plan, head, grains, hops);
        logger.LogInformation("Model {Model} loaded from {Directory}: {Layers} layers over {Devices} devices", name, directory, plan.Count, pipeline.DeviceCount);
        // A layer lost later with its silo comes back the way a restoring load brings it: from the store, at its version.
        var recovery = new LayerRecovery(name, directory, precision.Name(), pipeline, grains, logger);
        return new LoadedModel(directory, config, tokenizer, new ChatPromptEncoder(tokenizer), head, pipeline,
            new GenerationScheduler(pipeline, recovery, tokenizer, request.KvCacheBudgetBytes, KvCacheType(precision, silos), logger), silos);
    }

    /// <summary>The first <paramref name="maxDevices"/> devices in the planner's order (silo address, then ordinal).</summary>
    private static IReadOnlyList<SiloDevices> Limit(IReadOnlyList<SiloDevices> silos, int? maxDevices)
    {
        if (maxDevices is not int max)
        {
            return silos;
        }

        var kept = new List<SiloDevices>();
        foreach (var silo in silos.OrderBy(s => s.Silo, StringComparer.Ordinal))
        {
            var devices = silo.Devices.OrderBy(d => d.Ordinal).Take(max - kept.Sum(s => s.Devices.Count)).ToArray();
            if (devices.Length > 0)
            {
                kept.Add(silo with { Devices = devices });
            }
        }

        return kept;
    }

    /// <summary>
    /// What the layers' KV caches hold, for the scheduler's budget: the precision's storage type when every device of
    /// the cluster is of one kind, else Float32 (budgeting bf16 caches as float32 only admits fewer sequences).
    /// </summary>
    private static TensorType KvCacheType(WeightPrecision precision, IReadOnlyList<SiloDevices> silos)
    {
        var kinds = silos.SelectMany(s => s.Devices).Select(d => Enum.TryParse<DeviceKind>(d.Kind, ignoreCase: true, out var kind) ? kind : DeviceKind.Cpu).Distinct().ToArray();
        var types = kinds.Select(kind => precision.StorageOn(kind)).Distinct().ToArray();
        return types.Length == 1 ? types[0] : TensorType.Float32;
    }

    private static long EstimateLayerBytes(ModelConfig c)
    {
        long attention = (long)c.HiddenSize * c.NumAttentionHeads * c.HeadDim * 2 + (long)c.HiddenSize * c.NumKeyValueHeads * c.HeadDim * 2;
        long mlp = 3L * c.HiddenSize * c.IntermediateSize;
        return (attention + mlp) * sizeof(float);
    }
}
