using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansQuant.Contracts;
using OrleansQuant.Grains.Placement;
using OrleansQuant.Grains.Scheduling;
using OrleansQuant.Model;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Grains;

/// <summary>
/// The coordinator of one model: plans where its layers go, loads them, drives calibration and layer-parallel
/// quantization through them, and schedules generation — continuous batching over several lanes, each a micro-batch
/// moving through the layer pipeline, so that the devices holding different layers work at the same time.
/// Reentrant: generation lanes, streaming calls and status queries interleave on the grain's one thread.
/// </summary>
[Reentrant]
public sealed class ModelGrain(IGrainFactory grains, ILogger<ModelGrain> logger) : Grain, IModelGrain
{
    private static long s_nextSequence;
    private string _directory = "";
    private ModelConfig? _config;
    private ModelTokenizer? _tokenizer;
    private ChatPromptEncoder? _chat;
    private CoordinatorHead? _head;
    private LayerPipeline? _pipeline;
    private IReadOnlyList<SiloDevices> _devices = [];
    private string? _recipeYaml;
    private readonly List<GenerationLane> _lanes = new();

    private string Name => this.GetPrimaryKeyString();

    public async Task<ModelStatus> Load(LoadModelRequest request)
    {
        if (_pipeline is not null)
        {
            throw new InvalidOperationException($"model '{Name}' is loaded already (from {_directory})");
        }

        _directory = ModelDirectory.Resolve(request.Model);
        _config = ModelConfig.Load(Path.Combine(_directory, "config.json"));
        _tokenizer = ModelTokenizer.Load(_directory);
        _chat = new ChatPromptEncoder(_tokenizer);

        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        _devices = await Task.WhenAll(hosts.Keys.Select(silo =>
            SiloTargetPlacement.TargetSilo(silo.ToParsableString(), () => grains.GetGrain<IDeviceHostGrain>(silo.ToParsableString()).GetDevices())));
        var plan = PlacementPlanner.Plan(_config.NumHiddenLayers, _devices, EstimateLayerBytes(_config));

        var layers = plan.Select(p => grains.GetGrain<ILayerGrain>($"{Name}/{p.Layer}")).ToArray();
        await Task.WhenAll(plan.Select(p => SiloTargetPlacement.TargetSilo(p.Silo, () =>
            layers[p.Layer].Load(new LayerLoadRequest(_directory, p.Layer, p.Device, request.KvCacheBudgetBytes)))));
        _pipeline = new LayerPipeline(layers, plan);
        _head = await CoordinatorHead.Load(_directory, _config);
        logger.LogInformation("Model {Model} loaded from {Directory}: {Layers} layers over {Devices} devices",
            Name, _directory, plan.Count, plan.Select(p => (p.Silo, p.Device)).Distinct().Count());
        return await GetStatus();
    }

    public async IAsyncEnumerable<QuantizationEvent> Quantize(QuantizeRequest request)
    {
        var pipeline = Loaded();
        var recipe = string.IsNullOrWhiteSpace(request.RecipeYaml) ? QuantizationRecipe.Default : RecipeReader.Parse(request.RecipeYaml, "recipe");
        LayerQuantizer.Validate(recipe, pipeline.Count);
        string yaml = RecipeWriter.ToYaml(recipe);
        var clock = Stopwatch.StartNew();
        var samples = request.Samples ?? await CalibrationSamples(request);
        var batches = ModelQuantizer.CalibrationBatches(samples, ModelQuantizer.DefaultBatchTokens)
            .Select(b => (Chunks: b.Batch.Chunks.Select(c => new ChunkDescriptor(c.SequenceId, c.StartPosition, c.Length)).ToArray(), b.Tokens))
            .ToArray();
        int last = pipeline.Count - 1;
        var results = new List<RequantizeResult>();

        if (request.Mode == ClusterQuantizationMode.LayerParallel)
        {
            // One pass of every batch through the full-precision pipeline; each layer collects as the batch passes.
            IReadOnlyList<long> ended = [];
            for (int b = 0; b < batches.Length; b++)
            {
                var input = await _head!.Embed(batches[b].Tokens);
                await pipeline.Run(batches[b].Chunks, input, ended, 0, last, observe: true);
                ended = batches[b].Chunks.Select(c => c.Sequence).ToArray();
                yield return new QuantizationEvent("calibrate", b + 1, batches.Length, clock.Elapsed.TotalSeconds);
            }

            await pipeline.EndSequences(ended);

            // Then every layer quantizes at once, on its own device, and holds its new weights …
            int done = 0;
            await foreach (var finished in Task.WhenEach(pipeline.Layers.Select(l => l.Quantize(yaml))))
            {
                var result = await finished;
                results.Add(result);
                yield return LayerEvent(result, ++done, pipeline.Count, clock);
            }

            // … which go into service together, or not at all when any layer failed.
            if (results.All(r => r.Succeeded))
            {
                await Task.WhenAll(pipeline.Layers.Select(l => l.CommitQuantization()));
            }
            else
            {
                await Task.WhenAll(pipeline.Layers.Select(l => l.DiscardQuantization()));
            }
        }
        else
        {
            // Each layer calibrated on what the quantized layers before it produce, as llm-compressor's sequential pipeline.
            var hidden = new ActivationPayload[batches.Length];
            for (int b = 0; b < batches.Length; b++)
            {
                hidden[b] = await _head!.Embed(batches[b].Tokens);
            }

            for (int layer = 0; layer <= last; layer++)
            {
                for (int b = 0; b < batches.Length; b++)
                {
                    await pipeline.Run(batches[b].Chunks, hidden[b], [], layer, layer, observe: true);
                    await pipeline.Layers[layer].EndSequences(batches[b].Chunks.Select(c => c.Sequence).ToArray());
                }

                var result = await pipeline.Layers[layer].Quantize(yaml);
                if (result.Succeeded)
                {
                    await pipeline.Layers[layer].CommitQuantization();
                }

                results.Add(result);
                for (int b = 0; b < batches.Length && result.Succeeded; b++)
                {
                    hidden[b] = await pipeline.Run(batches[b].Chunks, hidden[b], [], layer, layer);
                    await pipeline.Layers[layer].EndSequences(batches[b].Chunks.Select(c => c.Sequence).ToArray());
                }

                yield return LayerEvent(result, layer + 1, pipeline.Count, clock);
                if (!result.Succeeded)
                {
                    break;
                }
            }
        }

        int failed = results.Count(r => !r.Succeeded);
        if (failed == 0)
        {
            _recipeYaml = yaml;
            yield return new QuantizationEvent("done", results.Count, pipeline.Count, clock.Elapsed.TotalSeconds);
        }
        else
        {
            string kept = request.Mode == ClusterQuantizationMode.LayerParallel
                ? "no layer changed"
                : $"layers before {results.First(r => !r.Succeeded).Layer} are quantized, the rest kept their weights";
            yield return new QuantizationEvent($"failed in {failed} layer(s); {kept}", results.Count(r => r.Succeeded), pipeline.Count, clock.Elapsed.TotalSeconds);
        }
    }

    public async IAsyncEnumerable<GeneratedToken> Generate(GenerateRequest request)
    {
        var sequence = Admit(request);
        await foreach (var token in sequence.Output.Reader.ReadAllAsync())
        {
            yield return token;
        }
    }

    public async Task<RequantizeResult> RequantizeLayer(int layer, string recipeYaml)
    {
        var pipeline = Loaded();
        if ((uint)layer >= (uint)pipeline.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} does not exist; '{Name}' has {pipeline.Count}");
        }

        var recipe = string.IsNullOrWhiteSpace(recipeYaml) ? QuantizationRecipe.Default : RecipeReader.Parse(recipeYaml, "recipe");
        LayerQuantizer.Validate(recipe, pipeline.Count);
        return await pipeline.Layers[layer].Requantize(RecipeWriter.ToYaml(recipe));
    }

    public async Task Save(string directory)
    {
        var pipeline = Loaded();
        var layers = await Task.WhenAll(pipeline.Layers.Select(l => l.ExportTensors()));
        var tensors = LayerTensors.Head(_head!.Head)
            .Concat(layers.SelectMany(l => l).Select(t => new ExportedTensor(t.Name, t.Shape, t.Int8, t.Float32)));
        var recipe = _recipeYaml is null ? null : RecipeReader.Parse(_recipeYaml, "recipe");
        await Task.Run(() => QuantizedCheckpointWriter.Write(_config!, recipe, _directory, directory, tensors));
    }

    public async Task<ModelStatus> GetStatus()
    {
        var pipeline = Loaded();
        var layers = await Task.WhenAll(pipeline.Layers.Select(l => l.GetStatus()));
        return new ModelStatus(Name, _directory, layers, _devices, _lanes.Sum(l => l.Count));
    }

    /// <summary>Puts a request into the lane with the fewest sequences, starting that lane if it was idle.</summary>
    private ActiveSequence Admit(GenerateRequest request, IReadOnlyList<int>? stops = null)
    {
        var pipeline = Loaded();
        var config = _config!;
        int[] prompt = request.PromptIds
            ?? (request.Messages is { Count: > 0 } messages ? _chat!.Encode(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToArray(), addGenerationPrompt: true).ToArray() : null)
            ?? _tokenizer!.Encode(request.Prompt ?? throw new ArgumentException("a generate request needs PromptIds, Messages or Prompt")).ToArray();
        var sampling = new SamplingOptions(request.Temperature, request.TopK, request.TopP, request.Seed);
        var generation = new GenerationRequest(prompt, request.MaxTokens, sampling, stops ?? config.EosTokenIds);
        generation.Validate();
        if (prompt.Any(id => (uint)id >= (uint)config.VocabSize))
        {
            throw new ArgumentException($"prompt ids must lie in [0, {config.VocabSize}); got {string.Join(",", prompt.Where(id => (uint)id >= (uint)config.VocabSize).Take(3))}");
        }

        var sequence = new ActiveSequence(Interlocked.Increment(ref s_nextSequence), prompt, request.MaxTokens, generation.StopIds, new TokenSampler(sampling));
        int laneCount = Math.Max(1, pipeline.Plan.Select(p => (p.Silo, p.Device)).Distinct().Count());
        while (_lanes.Count < laneCount)
        {
            _lanes.Add(new GenerationLane(pipeline, _head!, _tokenizer!, config.VocabSize, logger));
        }

        _lanes.MinBy(l => l.Count)!.Add(sequence);
        return sequence;
    }

    private async Task<IReadOnlyList<int[]>> CalibrationSamples(QuantizeRequest request)
    {
        var options = new CalibrationOptions(request.SampleCount, request.MaxTokens, request.Seed);
        options.Validate();
        if (!string.Equals(request.Calibration, "self", StringComparison.OrdinalIgnoreCase))
        {
            return CalibrationData.Load(request.Calibration, _tokenizer!, options);
        }

        // Drawn from the model itself, through the cluster, from SelfCalibration's requests: the same samples as in one process.
        var draws = SelfCalibration.Requests(_config!, options.Samples, options.MaxTokens, options.Seed).Select(async request =>
        {
            var tokens = new List<int>(request.PromptIds);
            var sampling = request.Sampling;
            var sequence = Admit(new GenerateRequest(PromptIds: [.. request.PromptIds], MaxTokens: request.MaxNewTokens,
                Temperature: sampling.Temperature, TopK: sampling.TopK, TopP: sampling.TopP, Seed: sampling.Seed), request.StopIds);
            await foreach (var token in sequence.Output.Reader.ReadAllAsync())
            {
                tokens.Add(token.TokenId);
            }

            return tokens.ToArray();
        });
        return await Task.WhenAll(draws);
    }

    private static QuantizationEvent LayerEvent(RequantizeResult result, int done, int total, Stopwatch clock) =>
        new(result.Succeeded ? "quantize" : $"failed: {result.Error}", done, total, clock.Elapsed.TotalSeconds, result.Layer, result.ErrorBefore, result.ErrorAfter);

    private static long EstimateLayerBytes(ModelConfig c)
    {
        long attention = (long)c.HiddenSize * c.NumAttentionHeads * c.HeadDim * 2 + (long)c.HiddenSize * c.NumKeyValueHeads * c.HeadDim * 2;
        long mlp = 3L * c.HiddenSize * c.IntermediateSize;
        return (attention + mlp) * sizeof(float);
    }

    private LayerPipeline Loaded() =>
        _pipeline ?? throw new InvalidOperationException($"model '{Name}' is not loaded; call Load first");

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _head?.Dispose();
        return Task.CompletedTask;
    }
}
