using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Tests.Checkpoints;

namespace OrleansQuant.Model.Tests.Reliability;

/// <summary>Issue 10, "atomic, checked writes" (case 3): a checkpoint appears whole or not at all, never over its source.</summary>
public sealed class AtomicWriteTests(QuantizedTinyModel quantized) : IClassFixture<QuantizedTinyModel>, IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Case3_an_interrupted_save_leaves_neither_the_target_nor_a_staging_directory()
    {
        string target = _temp.File("out");
        using (var staged = StagedDirectory.Begin(target))
        {
            File.WriteAllText(Path.Combine(staged.Path, "config.json"), "{");
            Assert.Equal(_temp.Path, Path.GetDirectoryName(staged.Path));
            Assert.StartsWith(".out.partial-", Path.GetFileName(staged.Path));
        }

        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp.Path));
    }

    [Fact]
    public void Case3_a_save_is_renamed_into_place_whole_and_loads()
    {
        string target = _temp.File("saved");
        Directory.CreateDirectory(target);
        using (var staged = StagedDirectory.Begin(target))
        {
            QuantizedCheckpointWriter.Write(quantized.Model, QuantizedTinyModel.Recipe, quantized.Source, staged.Path);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));
            staged.Commit(replaceExisting: false);
        }

        Assert.Equal([target], Directory.EnumerateFileSystemEntries(_temp.Path));
        using var checkpoint = ModelCheckpoint.Open(target);
        Assert.Equal(quantized.Model.Config.NumHiddenLayers, checkpoint.Config.NumHiddenLayers);
    }

    [Fact]
    public void Case3_the_index_lists_the_side_files_and_a_checkpoint_missing_one_is_refused_naming_it()
    {
        string target = _temp.File("incomplete");
        QuantizedCheckpointWriter.Write(quantized.Model, QuantizedTinyModel.Recipe, quantized.Source, target);
        using (var index = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(target, CheckpointFiles.IndexFile))))
        {
            var listed = index.RootElement.GetProperty("metadata").GetProperty(CheckpointIndex.RequiredFilesKey).EnumerateArray().Select(e => e.GetString()!).ToArray();
            Assert.Equal(["config.json", "recipe.yaml", "tokenizer.json", "tokenizer_config.json"], listed);
        }

        // What the issue saw after Ctrl+C: everything there but tokenizer_config.json.
        string missing = Path.Combine(target, "tokenizer_config.json");
        File.Delete(missing);

        var error = Assert.Throws<ModelFormatException>(() => ModelCheckpoint.Open(target));
        Assert.Equal($"{missing}: is missing, but model.safetensors.index.json lists it in 'metadata.required_files'; expected the file the save wrote (was the save interrupted?)", error.Message);
    }

    [Fact]
    public void Case3_commit_replaces_a_non_empty_target_only_when_asked()
    {
        string target = _temp.File("existing");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "old.txt"), "old");

        var refused = StagedDirectory.Begin(target);
        File.WriteAllText(Path.Combine(refused.Path, "new.txt"), "new");
        var error = Assert.Throws<IOException>(() => refused.Commit(replaceExisting: false));
        Assert.Equal($"{target}: was filled while the checkpoint was written; the finished checkpoint is in {refused.Path}", error.Message);
        refused.Dispose();
        Assert.True(File.Exists(Path.Combine(refused.Path, "new.txt")), "the finished work is kept when it cannot be moved into place");

        using (var replacing = StagedDirectory.Begin(target))
        {
            File.WriteAllText(Path.Combine(replacing.Path, "new.txt"), "new");
            replacing.Commit(replaceExisting: true);
        }

        Assert.Equal(["new.txt"], Directory.EnumerateFiles(target).Select(Path.GetFileName));
    }

    [Fact]
    public void Case3_the_target_may_not_be_the_model_inside_it_or_around_it_nor_a_filled_directory()
    {
        string model = TestModels.Directory(DemoModels.Tiny);
        string inside = Path.Combine(model, "quantized");
        string filled = _temp.File("filled");
        Directory.CreateDirectory(filled);
        File.WriteAllText(Path.Combine(filled, "keep.txt"), "mine");

        Assert.Equal(
            $"{model}/: the output directory is the model's own directory {model}; expected another one, so the original stays as it is",
            Assert.Throws<ArgumentException>(() => CheckpointTarget.Check(model + "/", model, replaceExisting: true)).Message);
        Assert.Equal(
            $"{inside}: the output directory is inside the model's directory {model}; expected another one, so the original stays as it is",
            Assert.Throws<ArgumentException>(() => CheckpointTarget.Check(inside, model, replaceExisting: false)).Message);
        Assert.Equal(
            $"{Path.GetDirectoryName(model)}: the output directory holds the model's directory {model}; expected one outside it, so the original stays as it is",
            Assert.Throws<ArgumentException>(() => CheckpointTarget.Check(Path.GetDirectoryName(model)!, model, replaceExisting: true)).Message);
        Assert.Equal(
            $"{filled}: exists and is not empty; expected a new or empty directory, so nothing is overwritten",
            Assert.Throws<ArgumentException>(() => CheckpointTarget.Check(filled, model, replaceExisting: false)).Message);
        CheckpointTarget.Check(_temp.File("new"), model, replaceExisting: false);
    }

    [Fact]
    public void Case3_an_unwritable_target_is_refused_before_any_work()
    {
        var error = Assert.Throws<ArgumentException>(() => StagedDirectory.Begin("/proc/oq-not-writable/out"));
        Assert.StartsWith("/proc/oq-not-writable/out: cannot be written (", error.Message);
    }
}
