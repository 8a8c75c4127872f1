using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Silo.Bench;

/// <summary>
/// <c>bench --parts cluster</c>: serves greedy generations through the layer grains of the in-process silo
/// <paramref name="host"/> (started by the caller), and the same prompts through the single-process engine
/// (<see cref="Generator"/> over the same weights on the silo's first device), in the same run. The cluster's tokens/s
/// over the single process's is what the grains cost; the coordinator's hop times say where.
/// </summary>
internal static class ClusterBench
{
    private const string ModelName = "bench";

    /// <summary>Tokens per sequence in each concurrency's untimed warm-up (new batch shapes: GEMM plans, caches).</summary>
    private const int WarmupTokens = 2;

    public static async Task<ClusterBenchResult> Run(IHost host, ClusterBenchSettings settings, BenchProgress progress, CancellationToken cancellation)
    {
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        var client = new OrleansQuantClient(cluster);
        progress.Show($"cluster: loading {settings.Model}");
        await client.LoadAsync(ModelName, settings.Model, dtype: settings.DType, progress: new ConsoleProgress<JobEvent>(e => progress.Show($"cluster: loading {settings.Model}, {e.Done}/{e.Total} layers")),
            cancellation: cancellation).WaitAsync(cancellation);

        string? saved = null;
        try
        {
            string weights = "as loaded", directory;
            if (settings.Quantizes)
            {
                var recipe = RecipeFlags.Apply(QuantizationRecipe.Default, null, null, null, null, false, settings.Method);
                var job = await client.Model(ModelName).StartQuantize(new QuantizeRequest(RecipeWriter.ToYaml(recipe), "self", settings.Samples, settings.CalibrationTokens));
                await client.CompleteAsync(ModelName, job, new ConsoleProgress<JobEvent>(e => progress.Show($"cluster: quantizing ({settings.Method}), {e.Stage} {e.Done}/{e.Total}")), cancellation);

                // The single process loads what the cluster serves, written as the checkpoint the cluster saves.
                saved = Path.Combine(Path.GetTempPath(), $"orleansquant-bench-w8a8-{Environment.ProcessId}-{Guid.NewGuid():N}");
                progress.Show("cluster: saving the W8A8 weights for the single-process engine");
                await client.SaveAsync(ModelName, saved, cancellation: cancellation);
                directory = saved;
                weights = $"W8A8 ({settings.Method}, SmoothQuant 0.8, self-calibrated on {settings.Samples} × {settings.CalibrationTokens} tokens)";
            }
            else
            {
                directory = ModelDirectory.Resolve(settings.Model);
            }

            var status = await client.StatusAsync(ModelName);
            var slot = host.Services.GetRequiredService<DeviceRegistry>().Head;
            progress.Show("single process: loading the same weights");
            var local = await slot.Worker.Run(() => CausalLanguageModel.Load(directory, slot.Device, precision: WeightPrecisions.Parse(settings.DType)));
            try
            {
                var runs = await Serve(cluster, local, slot, settings, progress, cancellation);
                return new ClusterBenchResult(settings.Model, weights, status.Layers.Count, Stages(status.Layers),
                    status.Devices.SelectMany(s => s.Devices).Select(d => $"{d.Kind}:{d.Ordinal} ({d.Name})").ToArray(), slot.Device.Info.ToString(),
                    settings.PromptTokens, settings.MaxTokens, runs);
            }
            finally
            {
                await slot.Worker.Run(local.Dispose);
            }
        }
        finally
        {
            if (saved is not null && Directory.Exists(saved))
            {
                Directory.Delete(saved, recursive: true);
            }
        }
    }

    private static async Task<IReadOnlyList<ServingRun>> Serve(IClusterClient cluster, CausalLanguageModel local, ComputeDeviceSlot slot,
        ClusterBenchSettings settings, BenchProgress progress, CancellationToken cancellation)
    {
        var model = cluster.GetGrain<IModelGrain>(ModelName);
        var times = cluster.GetGrain<IServingTimesGrain>(ModelName);
        var generator = new Generator(local);
        var prompts = Prompts(local.Config.VocabSize, settings.Concurrency.Max(), settings.PromptTokens);
        var runs = new List<ServingRun>();
        foreach (int concurrency in settings.Concurrency)
        {
            var chosen = prompts.Take(concurrency).ToArray();
            progress.Show($"concurrency {concurrency}: warm-up");
            await Cluster(model, chosen, WarmupTokens, cancellation);
            await Single(generator, slot, local, chosen, WarmupTokens);

            await times.ResetServingTimes();
            progress.Show($"concurrency {concurrency}: through the cluster");
            var clustered = await Cluster(model, chosen, settings.MaxTokens, cancellation);
            var serving = await times.GetServingTimes();
            cancellation.ThrowIfCancellationRequested();
            progress.Show($"concurrency {concurrency}: single process");
            var single = await Single(generator, slot, local, chosen, settings.MaxTokens);

            int differing = Enumerable.Range(0, concurrency).Count(i => !clustered.Ids[i].SequenceEqual(single.Ids[i]));
            runs.Add(new ServingRun(concurrency, clustered, single, clustered.TokensPerSecond / single.TokensPerSecond, differing == 0, differing,
                serving.Steps, serving.Hops.Select(HopRow.Of).ToArray()));
        }

        return runs;
    }

    /// <summary>Every prompt sent at once, each read as its own stream.</summary>
    private static async Task<ServingPath> Cluster(IModelGrain model, int[][] prompts, int maxTokens, CancellationToken cancellation)
    {
        var timeline = new TokenTimeline(prompts.Length);
        timeline.Start();
        await Task.WhenAll(prompts.Select(async (prompt, i) =>
        {
            await foreach (var token in model.Generate(new GenerateRequest(PromptIds: prompt, MaxTokens: maxTokens)).Until(cancellation))
            {
                timeline.Add(i, token.TokenId);
            }
        }));
        return timeline.Result();
    }

    /// <summary>The same prompts as one batch through the single-process generator, on the device's worker as layers run.</summary>
    private static async Task<ServingPath> Single(Generator generator, ComputeDeviceSlot slot, CausalLanguageModel local, int[][] prompts, int maxTokens)
    {
        var timeline = new TokenTimeline(prompts.Length);
        var requests = prompts.Select(p => new GenerationRequest(p, maxTokens, SamplingOptions.Greedy, local.Config.EosTokenIds)).ToArray();
        timeline.Start();
        await slot.Worker.Run(() => generator.Generate(requests, timeline.Add));
        return timeline.Result();
    }

    /// <summary>Fixed pseudo-random prompts (seed 42), so every run and both paths see the same ids.</summary>
    private static int[][] Prompts(int vocab, int count, int tokens)
    {
        var random = new Random(42);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, tokens).Select(_ => random.Next(vocab)).ToArray()).ToArray();
    }

    /// <summary>Runs of consecutive layers on one device: the stage calls a step makes.</summary>
    private static int Stages(IReadOnlyList<LayerStatus> layers)
    {
        var ordered = layers.OrderBy(l => l.Layer).ToArray();
        return ordered.Where((l, i) => i == 0 || l.Silo != ordered[i - 1].Silo || l.Device != ordered[i - 1].Device).Count();
    }
}
