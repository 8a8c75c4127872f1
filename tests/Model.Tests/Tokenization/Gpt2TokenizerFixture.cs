using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Tokenization;

/// <summary>Writes and loads the GPT-2 tokenizer once per test class: deriving 50000 merges takes a moment.</summary>
public sealed class Gpt2TokenizerFixture : IDisposable
{
    private readonly TempDirectory _directory = new();

    public Gpt2TokenizerFixture()
    {
        TokenizerFiles.WriteGpt2(_directory.Path);
        Tokenizer = ModelTokenizer.Load(_directory.Path);
    }

    public string Directory => _directory.Path;

    public ModelTokenizer Tokenizer { get; }

    public void Dispose() => _directory.Dispose();
}
