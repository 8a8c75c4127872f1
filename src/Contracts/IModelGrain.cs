namespace OrleansQuant.Contracts;

/// <summary>
/// The coordinator of one model (key: the model name): loads it across the cluster, quantizes it, schedules
/// generation through the layer grains, re-quantizes single layers while serving, and saves it. Loading,
/// quantization, re-quantization and saving are jobs: <c>Start…</c> returns at once, <see cref="WatchJob"/> streams
/// progress (and can be left and re-attached), <see cref="CancelJob"/> stops one with nothing half-applied.
/// </summary>
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Plans placement over every silo's devices and loads each layer there. A second load while one runs joins it.</summary>
    Task<JobInfo> StartLoad(LoadModelRequest request);

    /// <summary>Calibrates and quantizes every layer; all layers change together, or none does.</summary>
    Task<JobInfo> StartQuantize(QuantizeRequest request);

    /// <summary>Re-quantizes one layer with another recipe from its kept statistics, while the model keeps serving.</summary>
    Task<JobInfo> StartRequantize(int layer, string recipeYaml);

    /// <summary>Writes the model, as it now serves, as a sharded checkpoint (compressed-tensors once quantized).</summary>
    Task<JobInfo> StartSave(string directory);

    /// <summary>The job's events from <paramref name="from"/> on, then live ones (with heartbeats) until it ends.</summary>
    IAsyncEnumerable<JobEvent> WatchJob(string jobId, int from = 0);

    Task<JobInfo> GetJob(string jobId);

    Task<JobInfo> CancelJob(string jobId);

    /// <summary>Continues a prompt, streaming tokens as they are made (continuous batching with other requests).</summary>
    IAsyncEnumerable<GeneratedToken> Generate(GenerateRequest request);

    Task<ModelStatus> GetStatus();

    /// <summary>
    /// Restores, now, the layers this model lost with a silo that left (from the model store, at their versions); a
    /// coordinator this call reactivates restores the whole model first. Returns once the model is whole, or at once when
    /// nothing was lost or no model is loaded. The silos call it on every model of the <see cref="IModelCatalogGrain"/>
    /// when one of them dies, so an idle model does not wait for its next request to come back.
    /// </summary>
    Task RestoreLostLayers();

    /// <summary>The loaded model's special tokens, chat template and context length; throws while it is not loaded yet.</summary>
    Task<TokenizerInfo> GetTokenizerInfo();

    /// <summary>
    /// The prompt ids <see cref="Generate"/> would run for <paramref name="text"/> or, when given, <paramref name="messages"/>
    /// (rendered with the chat template, the assistant's turn opened). <paramref name="addSpecialTokens"/> false leaves BOS off a text.
    /// </summary>
    Task<int[]> Tokenize(string? text, IReadOnlyList<ChatTurn>? messages, bool addSpecialTokens);

    /// <summary>The text of <paramref name="ids"/>, special tokens skipped.</summary>
    Task<string> Detokenize(int[] ids);
}
