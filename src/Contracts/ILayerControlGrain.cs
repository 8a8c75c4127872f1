namespace OrleansQuant.Contracts;

/// <summary>
/// The control plane of one decoder layer (key: "model/layer"): loading, calibration, quantization and checkpoint
/// shards. Long work — loading, building quantized weights — is a job: the call that starts it returns at once, and
/// <see cref="WaitJob"/> waits a bounded time for it, so no call's duration grows with the size of the work. Built
/// weights wait beside the serving ones until <see cref="Commit"/> or <see cref="Discard"/>.
/// </summary>
public interface ILayerControlGrain : IGrainWithStringKey
{
    /// <summary>Starts loading this layer's tensors on its device.</summary>
    Task StartLoad(LayerLoadRequest request);

    /// <summary>Forgets earlier statistics: the next observed steps start a fresh collection.</summary>
    Task BeginCalibration();

    /// <summary>Starts building quantized weights from the collected statistics, beside the serving ones.</summary>
    Task StartBuild(string recipeYaml);

    /// <summary>The current job's status once it ends or <paramref name="wait"/> has passed, whichever is first.</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<LayerJobStatus> WaitJob(TimeSpan wait);

    /// <summary>Asks the running job to stop; it ends cancelled, with nothing applied.</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task CancelJob();

    /// <summary>Puts built weights in service between two steps; returns the new version.</summary>
    Task<int> Commit();

    /// <summary>Drops built weights, if any; the serving ones stay.</summary>
    Task Discard();

    /// <summary>
    /// Starts writing this layer's tensors, as they serve, as one safetensors shard of a checkpoint in
    /// <paramref name="directory"/> (218 MB for a Llama-3-8B layer in int8: a job, not a call); the shard's
    /// description comes back in <see cref="LayerJobStatus.Shard"/>.
    /// </summary>
    Task StartWriteShard(string directory, int layerCount);

    [Orleans.Concurrency.AlwaysInterleave]
    Task<LayerStatus> GetStatus();
}
