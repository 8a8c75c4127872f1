using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Silo.Commands;

/// <summary>Token samples from `--calibration FILE|self` (or `--data` for eval): a text/JSONL file, or drawn from the model.</summary>
internal static class CalibrationSource
{
    public static IReadOnlyList<int[]> Load(string source, string modelDirectory, CausalLanguageModel model, CalibrationOptions options)
    {
        options.Validate();
        if (string.Equals(source, "self", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"drawing {options.Samples} samples × {options.MaxTokens} tokens from the model itself (seed {options.Seed}) …");
            return SelfCalibration.Generate(model, options.Samples, options.MaxTokens, options.Seed);
        }

        var progress = new ConsoleProgress<string>(line => Console.Error.WriteLine(line));
        return CalibrationData.Load(source, ModelTokenizer.Load(modelDirectory), options, progress);
    }
}
