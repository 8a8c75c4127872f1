using System.Text.Json;

namespace OrleansQuant.Silo.Tests;

/// <summary>A synthetic model through the single-process commands: ids work, text is refused as bad input with what to give instead.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SyntheticModelCommandTests
{
    [Fact]
    public async Task Generate_continues_prompt_ids_and_shows_ids_as_text()
    {
        var run = await CliRun.Of("generate", "--model", "synthetic:tiny", "--prompt-ids", "0,72,101", "--max-tokens", "4", "--json");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var generated = json.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(4, generated.Length);
        Assert.Equal(string.Concat(generated.Select(id => $"<{id}>")), json.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Text_for_a_model_without_a_tokenizer_is_bad_input_that_says_what_to_give()
    {
        var run = await CliRun.Of("generate", "--model", "synthetic:tiny", "--prompt", "hello");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("synthetic:tiny has no tokenizer", run.Error);
        Assert.Contains("--prompt-ids", run.Error);
    }
}
