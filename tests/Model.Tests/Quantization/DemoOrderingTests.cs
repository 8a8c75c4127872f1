using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Evaluation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using Xunit.Abstractions;

namespace OrleansQuant.Model.Tests.Quantization;

/// <summary>
/// The demo model (outlier channels 24–100× at the q/k/v and gate/up inputs) quantized three ways on the same
/// self-drawn calibration data, each judged on held-out self-drawn text against the full-precision model.
/// </summary>
public sealed class DemoQuantization : IDisposable
{
    public DemoQuantization()
    {
        string directory = TestModels.Directory(DemoModels.Default);
        Device = new CpuDevice();
        FullPrecision = CausalLanguageModel.Load(directory, Device);
        var calibration = SelfCalibration.Generate(FullPrecision, samples: 16, tokens: 64, seed: 42);
        var evaluation = SelfCalibration.Generate(FullPrecision, samples: 8, tokens: 64, seed: 1234);
        var recipes = new (string Name, QuantizationRecipe Recipe, QuantizationMode Mode)[]
        {
            ("SmoothQuant+GPTQ", QuantizationRecipe.Default, QuantizationMode.LayerParallel),
            ("GPTQ", QuantizationRecipe.Default with { SmoothQuant = null }, QuantizationMode.LayerParallel),
            ("RTN", new QuantizationRecipe(null, null, RtnModifier.Default), QuantizationMode.LayerParallel),
            ("SmoothQuant+GPTQ sequential", QuantizationRecipe.Default, QuantizationMode.Sequential),
        };
        foreach (var (name, recipe, mode) in recipes)
        {
            using var model = CausalLanguageModel.Load(directory, Device);
            var report = new ModelQuantizer(model, recipe, mode).Run(calibration);
            var quality = ModelEvaluator.Evaluate(evaluation, ("fp", FullPrecision), (name, model));
            Results[name] = (report.Layers.Average(l => l.ErrorAfter), quality[1]);
            Reference = quality[0];
        }
    }

    public CpuDevice Device { get; }

    public CausalLanguageModel FullPrecision { get; }

    public EvaluationResult Reference { get; private set; } = null!;

    /// <summary>Per method: mean relative W8A8 output error over all quantized linears, and KL / top-1 against FP.</summary>
    public Dictionary<string, (double LayerError, EvaluationResult Quality)> Results { get; } = new();

    public void Dispose()
    {
        FullPrecision.Dispose();
        Device.Dispose();
    }
}

public sealed class DemoOrderingTests(DemoQuantization demo, ITestOutputHelper output) : IClassFixture<DemoQuantization>
{
    [Fact]
    public void SmoothQuantPlusGptqBeatsGptqWhichBeatsRoundToNearest()
    {
        output.WriteLine($"FP perplexity {demo.Reference.Perplexity:F2} over {demo.Reference.Tokens} tokens");
        foreach (var (name, (error, quality)) in demo.Results)
        {
            output.WriteLine($"{name,-28} layer W8A8 error {error:E3}  KL {quality.MeanKlDivergence:E3}  top-1 {quality.Top1Agreement:P2}  perplexity {quality.Perplexity:F2}");
        }

        var sq = demo.Results["SmoothQuant+GPTQ"];
        var gptq = demo.Results["GPTQ"];
        var rtn = demo.Results["RTN"];
        Assert.True(sq.LayerError < gptq.LayerError && gptq.LayerError < rtn.LayerError,
            $"layer W8A8 error: SQ+GPTQ {sq.LayerError:E3}, GPTQ {gptq.LayerError:E3}, RTN {rtn.LayerError:E3}");
        // End to end, smoothing is what matters on this model: GPTQ alone against RTN is within the noise of which
        // tokens the model drew (KL 1.24 vs 1.31, 1.15 vs 1.14 and 1.31 vs 1.27 for three sets of self-drawn samples),
        // so their order is asserted on the layer error above, which the same calibration data decides.
        Assert.True(sq.Quality.MeanKlDivergence < gptq.Quality.MeanKlDivergence && sq.Quality.MeanKlDivergence < rtn.Quality.MeanKlDivergence,
            $"KL: SQ+GPTQ {sq.Quality.MeanKlDivergence:E3}, GPTQ {gptq.Quality.MeanKlDivergence:E3}, RTN {rtn.Quality.MeanKlDivergence:E3}");
    }

    /// <remarks>
    /// The demo model's next-token distributions are flat (perplexity about 25), so a few near-ties in 504 held-out
    /// tokens decide the last percent of top-1 agreement, and which ones tie depends on the self-drawn text. Measured
    /// on 2 calibration × 6 evaluation draws, both modes (2026-11-29): top-1 93.45–97.22 %, KL 0.012–0.019; the
    /// bounds sit below the worst of those, where a real loss of accuracy (GPTQ without smoothing: 74 %, KL 1.4) is far.
    /// </remarks>
    [Fact]
    public void SmoothQuantPlusGptqAgreesWithFullPrecisionOnTheTopToken()
    {
        foreach (string name in new[] { "SmoothQuant+GPTQ", "SmoothQuant+GPTQ sequential" })
        {
            var quality = demo.Results[name].Quality;
            Assert.True(quality.Top1Agreement >= 0.92, $"{name}: top-1 agreement {quality.Top1Agreement:P2}; expected ≥ 92 %");
            Assert.True(quality.MeanKlDivergence <= 0.03, $"{name}: mean KL {quality.MeanKlDivergence:E3}; expected ≤ 0.03");
        }
    }
}
