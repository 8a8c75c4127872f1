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
    /// <summary>A save may replace an earlier save, but never the model's own directory, one inside it, or one holding it.</summary>
    public static void CheckTarget(string directory, string source) => CheckpointTarget.Check(directory, source, replaceExisting: true);

    public static async Task Save(LoadedModel model, string directory, ModelJob job)
    {
        int layers = model.Pipeline.LayerCount, written = 0;
        job.Report(new JobEvent("save", 0, layers + 1, 0));

        // Every file goes to a sibling staging directory renamed into place at the end, so a save cut short leaves
        // no directory that loads as a complete checkpoint.
        using var staged = StagedDirectory.Begin(directory);
        var shards = await Task.WhenAll(model.Pipeline.Controls.Select(async (control, layer) =>
        {
            job.Cancellation.ThrowIfCancellationRequested();
            await control.StartWriteShard(staged.Path, layers);
            var status = await ClusterLayerRunner.WaitForJob(control, job.Cancellation);
            var shard = status.Shard ?? throw new InvalidOperationException($"layer {layer} did not write its shard: {status.Error ?? status.State.ToString()}");
            job.Report(new JobEvent("save", ++written, layers + 1, 0, layer));
            return new ShardInfo(shard.File, shard.Tensors.ToArray(), shard.Bytes);
        }));

        var recipe = model.RecipeYaml is null ? null : RecipeReader.Parse(model.RecipeYaml, "recipe");
        await model.Head.Run(head => QuantizedCheckpointWriter.WriteHeadAndIndex(model.Config, recipe, model.Directory, staged.Path, head, shards));
        staged.Commit(replaceExisting: true);
        job.Report(new JobEvent("save", layers + 1, layers + 1, 0));
    }
}
