using System.Text;
using System.Text.Json;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Calibration;

/// <summary>A temp folder with the byte tokenizer (BOS 0, byte b = b + 2), optionally with a chat template, and data files.</summary>
internal sealed class CalibrationFixture : IDisposable
{
    public CalibrationFixture(string? chatTemplate = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "oq-calib-" + Guid.NewGuid().ToString("N"));
        TokenizerFiles.WriteBytes(Path);
        if (chatTemplate is not null)
        {
            var config = new Dictionary<string, object>
            {
                ["add_bos_token"] = true,
                ["add_eos_token"] = false,
                ["bos_token"] = "<s>",
                ["eos_token"] = "</s>",
                ["chat_template"] = chatTemplate,
            };
            File.WriteAllText(System.IO.Path.Combine(Path, ModelTokenizer.TokenizerConfigFile), JsonSerializer.Serialize(config));
        }

        Tokenizer = ModelTokenizer.Load(Path);
    }

    public string Path { get; }

    public ModelTokenizer Tokenizer { get; }

    /// <summary>The ids the byte tokenizer gives <paramref name="text"/>, without BOS.</summary>
    public static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => b + 2).ToArray();

    public string Write(string name, string content)
    {
        string path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder must not fail a test run.
        }
    }
}
