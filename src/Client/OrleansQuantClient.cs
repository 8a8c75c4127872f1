using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// The .NET SDK: typed calls to an OrleansQuant cluster — load a model, quantize it (progress streams back),
/// generate (tokens stream back), re-quantize one layer while it serves, read its status, save it. Every call takes a
/// <see cref="CancellationToken"/>: cancelling stops the wait at once; a cancelled generation also ends on the cluster,
/// while a cancelled wait on a job leaves the job running (the cluster owns it: <see cref="CancelAsync"/> stops it).
/// In a .NET host, register it with <see cref="OrleansQuantServiceCollectionExtensions.AddOrleansQuantClient(IHostApplicationBuilder, Action{OrleansQuantClientOptions}?)"/>.
/// </summary>
/// <param name="logger">where abandoned and resumed generations and job watches are noted; none by default.</param>
/// <param name="resume">how a generation or a job's watch whose stream broke with a silo is resumed (<see cref="GenerationResume"/>, <see cref="JobWatchResume"/>); the defaults when null.</param>
/// <param name="gatewayLoss">tells resumed streams that a gateway closed (registered by <c>AddOrleansQuantClient</c>); without it a stream waiting on a dead gateway is resumed after its response timeout.</param>
public sealed class OrleansQuantClient(IClusterClient cluster, ILogger<OrleansQuantClient>? logger = null, GenerationResumeOptions? resume = null,
    GatewayLoss? gatewayLoss = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<OrleansQuantClient>.Instance;
    private readonly GenerationResumeOptions _resume = resume ?? new GenerationResumeOptions();

    public IClusterClient Cluster { get; } = cluster;

    /// <summary>Connects to a cluster whose silos use localhost clustering, through the gateway on <paramref name="gatewayPort"/>.</summary>
    /// <param name="configure">further host settings, such as logging.</param>
    public static async Task<(OrleansQuantClient Client, IHost Host)> ConnectLocalhostAsync(
        int gatewayPort = 30000, Action<IHostBuilder>? configure = null, CancellationToken cancellation = default)
    {
        var builder = Host.CreateDefaultBuilder().UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort));
        configure?.Invoke(builder);
        var host = builder.Build();
        await host.StartAsync(cancellation);
        return (new OrleansQuantClient(host.Services.GetRequiredService<IClusterClient>()), host);
    }

    public IModelGrain Model(string name) => Cluster.GetGrain<IModelGrain>(name);

    /// <summary>
    /// Loads a checkpoint directory (readable by every silo) or a demo model name under <paramref name="name"/>, and
    /// waits for the load job, reporting each layer as it lands. A load of the same model already running is joined.
    /// </summary>
    /// <param name="dtype">what full-precision weights are stored as: auto (bfloat16 on GPUs), float32 or bfloat16.</param>
    public async Task<ModelStatus> LoadAsync(string name, string model, long kvCacheBudgetBytes = 1L << 30,
        IProgress<JobEvent>? progress = null, int? maxDevices = null, CancellationToken cancellation = default, string dtype = "auto")
    {
        var job = await Model(name).StartLoad(new LoadModelRequest(model, kvCacheBudgetBytes, maxDevices, dtype)).WaitAsync(cancellation);
        await CompleteAsync(name, job, progress, cancellation);
        return await StatusAsync(name, cancellation);
    }

    /// <summary>Starts a quantization job and streams its progress to the end ("done", "failed" or "cancelled").</summary>
    public async IAsyncEnumerable<JobEvent> QuantizeAsync(string name, QuantizeRequest? request = null,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var job = await Model(name).StartQuantize(request ?? new QuantizeRequest()).WaitAsync(cancellation);
        await foreach (var e in WatchAsync(name, job.Id, cancellation: cancellation))
        {
            yield return e;
        }
    }

    /// <summary>
    /// Quantizes and waits for the job, reporting each of its events to <paramref name="progress"/> (as
    /// <see cref="LoadAsync"/> does); throws with the job's message when it failed or was cancelled.
    /// </summary>
    public async Task<JobInfo> QuantizeAsync(string name, QuantizeRequest? request, IProgress<JobEvent> progress, CancellationToken cancellation = default) =>
        await CompleteAsync(name, await Model(name).StartQuantize(request ?? new QuantizeRequest()).WaitAsync(cancellation), progress, cancellation);

    /// <summary>
    /// A job's events from <paramref name="from"/> on, live until it ends, heartbeats included. Leaving and calling
    /// again with the next <see cref="JobEvent.Sequence"/> picks up where the stream was left; a watch broken by a silo
    /// or gateway going away does that by itself (<see cref="JobWatchResume"/>).
    /// </summary>
    public IAsyncEnumerable<JobEvent> WatchAsync(string name, string jobId, int from = 0, CancellationToken cancellation = default) =>
        new JobWatchResume(_resume, _logger, gatewayLoss).Run(name, jobId, from, (f, c) => Model(name).WatchJob(jobId, f).Until(c), cancellation);

    /// <summary>Stops a job; nothing it built goes into service. Returns the job as it stands once told.</summary>
    public Task<JobInfo> CancelAsync(string name, string jobId, CancellationToken cancellation = default) => Model(name).CancelJob(jobId).WaitAsync(cancellation);

    /// <summary>A job as it stands: its state, progress and error.</summary>
    public Task<JobInfo> JobAsync(string name, string jobId, CancellationToken cancellation = default) => Model(name).GetJob(jobId).WaitAsync(cancellation);

    /// <summary>
    /// Continues a prompt, streaming each token with its id, text and the versions of the layers that made it; the
    /// last carries the finish reason ("stop": an end-of-sequence token, whose text is the token's own; "length").
    /// Leaving the loop early or cancelling ends the generation on the cluster: it leaves the model's batch. A stream
    /// broken by a silo going away is resumed (<see cref="GenerationResume"/>): greedy and seeded requests go on with the
    /// ids a run without the fault gives; past the resume bounds the stream fails with <see cref="GenerationInterruptedException"/>.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(string name, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        bool finished = false;
        var resume = new GenerationResume(_resume, _logger, gatewayLoss);
        try
        {
            await foreach (var token in resume.Run(name, request, (r, c) => Model(name).Generate(r).Until(c),
                (r, c) => Model(name).Tokenize(r.Prompt, r.Messages, addSpecialTokens: true).WaitAsync(c), cancellation))
            {
                finished = token.FinishReason is not null;
                yield return token;
            }
        }
        finally
        {
            if (!finished)
            {
                _logger.LogDebug("Generation on model {Model} left before its end (cancelled: {Cancelled}); its stream is disposed, which ends it on the cluster",
                    name, cancellation.IsCancellationRequested);
            }
        }
    }

    /// <summary>The prompt ids a generation of <paramref name="messages"/> (chat template applied, assistant's turn open) or else <paramref name="text"/> runs.</summary>
    public Task<int[]> TokenizeAsync(string name, string? text, IReadOnlyList<ChatTurn>? messages = null, bool addSpecialTokens = true, CancellationToken cancellation = default) =>
        Model(name).Tokenize(text, messages, addSpecialTokens).WaitAsync(cancellation);

    /// <summary>The loaded model's special tokens, chat template and context length.</summary>
    public Task<TokenizerInfo> TokenizerAsync(string name, CancellationToken cancellation = default) => Model(name).GetTokenizerInfo().WaitAsync(cancellation);

    /// <summary>The whole continuation of <paramref name="prompt"/> as one string.</summary>
    public async Task<string> CompleteAsync(string name, string prompt, int maxTokens = 32, float temperature = 0f, CancellationToken cancellation = default)
    {
        var text = new StringBuilder();
        await foreach (var token in GenerateAsync(name, new GenerateRequest(Prompt: prompt, MaxTokens: maxTokens, Temperature: temperature), cancellation))
        {
            text.Append(token.Text);
        }

        return text.ToString();
    }

    /// <summary>
    /// Re-quantizes one layer with another recipe while the model serves, and waits for it. A failure is returned, not
    /// thrown: the old weights kept serving, and the layer's status keeps the error.
    /// </summary>
    /// <param name="progress">told each of the job's events as it comes, when given.</param>
    public async Task<RequantizeResult> RequantizeLayerAsync(string name, int layer, string recipeYaml, CancellationToken cancellation = default,
        IProgress<JobEvent>? progress = null)
    {
        var job = await Model(name).StartRequantize(layer, recipeYaml).WaitAsync(cancellation);
        JobEvent? built = null;
        await foreach (var e in WatchAsync(name, job.Id, cancellation: cancellation))
        {
            progress?.Report(e);
            built = e is { Stage: "quantize", Done: 1 } ? e : built;
            if (e.IsFinal)
            {
                var status = (await StatusAsync(name, cancellation)).Layers[layer];
                return e.Stage == "done"
                    ? new RequantizeResult(layer, true, status.Version, null, built?.ErrorBefore, built?.ErrorAfter)
                    : new RequantizeResult(layer, false, status.Version, e.Message);
            }
        }

        throw new InvalidOperationException($"job {job.Id} ended without a final event");
    }

    /// <summary>Where each layer lives and how it is doing, the devices, the live sequences and the model's jobs.</summary>
    public Task<ModelStatus> StatusAsync(string name, CancellationToken cancellation = default) => Model(name).GetStatus().WaitAsync(cancellation);

    /// <summary>Saves the model as it serves as a sharded checkpoint in <paramref name="directory"/> (every silo must be able to write it).</summary>
    public async Task SaveAsync(string name, string directory, IProgress<JobEvent>? progress = null, CancellationToken cancellation = default) =>
        await CompleteAsync(name, await Model(name).StartSave(directory).WaitAsync(cancellation), progress, cancellation);

    /// <summary>Waits for a job to end; throws with its message when it failed or was cancelled.</summary>
    public async Task<JobInfo> CompleteAsync(string name, JobInfo job, IProgress<JobEvent>? progress = null, CancellationToken cancellation = default)
    {
        await foreach (var e in WatchAsync(name, job.Id, cancellation: cancellation))
        {
            progress?.Report(e);
        }

        var ended = await JobAsync(name, job.Id, cancellation);
        return ended.State switch
        {
            JobState.Succeeded => ended,
            JobState.Cancelled => throw new OperationCanceledException($"job {ended.Id} was cancelled"),
            _ => throw new InvalidOperationException($"job {ended.Id} failed: {ended.Error}"),
        };
    }

    /// <summary>The model <paramref name="name"/> as a Microsoft.Extensions.AI chat client.</summary>
    public IChatClient AsChatClient(string name) => new OrleansQuantChatClient(this, name);
}
