using OrleansQuant.Contracts;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The save job: every layer grain writes its own safetensors shard on its silo, so no layer's tensors travel in a
/// message (one Llama-3-8B layer in int8 is 218 MB, over Orleans' 100 MB limit); the coordinator writes the head's
/// shard, the index, config.json with its quantization_config, the recipe and the tokenizer files. The directory must
/// be one every silo can write, as the model's own directory is one every silo can read.
/// </summary>
internal static class CheckpointExport
{
    public static void CheckTarget(string directory, string source)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ArgumentException("the output directory is empty; expected a path every silo can write");
        }

        if (string.Equals(Path.GetFullPath(directory).TrimEnd('/'), Path.GetFullPath(source).TrimEnd('/'), StringComparison.Ordinal))
        {
            throw new ArgumentException($"the output directory {directory} is the model's own directory; expected another one, so the original stays");
        }
    }

    public static async Task Save(LoadedModel model, string directory, ModelJob job)
    {
        int layers = model.Pipeline.LayerCount, written = 0;
        job.Report(new JobEvent("save", 0, layers + 1, 0));
        Directory.CreateDirectory(directory);
        var shards = await Task.WhenAll(model.Pipeline.Controls.Select(async (control, layer) =>
        {
            job.Cancellation.ThrowIfCancellationRequested();
            await control.StartWriteShard(directory, layers);
            var status = await ClusterLayerRunner.WaitForJob(control, job.Cancellation);
            var shard = status.Shard ?? throw new InvalidOperationException($"layer {layer} did not write its shard: {status.Error ?? status.State.ToString()}");
            job.Report(new JobEvent("save", ++written, layers + 1, 0, layer));
            return new ShardInfo(shard.File, shard.Tensors.ToArray(), shard.Bytes);
        }));

        var recipe = model.RecipeYaml is null ? null : RecipeReader.Parse(model.RecipeYaml, "recipe");
        await model.Head.Run(head => QuantizedCheckpointWriter.WriteHeadAndIndex(model.Config, recipe, model.Directory, directory, head, shards));
        job.Report(new JobEvent("save", layers + 1, layers + 1, 0));
    }
}
