using System.Diagnostics;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Applies a recipe to one decoder layer, in llm-compressor's order: SmoothQuant (Xiao et al. 2023; scales from the
/// collected |x|max, folded into norms and weights, Hessians rescaled), then GPTQ (Frantar et al. 2023) or
/// round-to-nearest on every targeted linear, all on the layer's device from its full-precision weights, which are
/// read and never changed. The new weights are built beside the old ones; the caller swaps them in.
/// </summary>
public static class LayerQuantizer
{
    /// <param name="original">the layer's full-precision weights on <paramref name="device"/> (every linear a <see cref="FloatLinear"/>).</param>
    /// <param name="beforeLinear">called with each module name before it is quantized (progress, fault injection).</param>
    public static (DecoderLayerWeights Weights, LayerQuantizationReport Report) Quantize(
        int layer, DecoderLayerWeights original, LayerCalibration calibration, QuantizationRecipe recipe, IComputeDevice device,
        Action<string>? beforeLinear = null)
    {
        recipe.Validate("recipe");
        Calibration.FiniteActivations.Check(layer, calibration);
        var clock = Stopwatch.StartNew();
        var sources = FullPrecisionLinears(original);

        // Collect: smoothing scales per mapped input, host maths on two vectors — the calibrated |x|max and the column
        // maxima of every linear reading the input.
        var smoothing = new Dictionary<LinearInput, double[]>();
        if (recipe.SmoothQuant is { } smoothQuant)
        {
            foreach (var mapping in smoothQuant.Mappings)
            {
                var input = SmoothedInput(layer, mapping);
                var readers = LinearSlot.Readers(input).Select(s => sources[s].Weight).ToArray();
                smoothing[input] = SmoothQuant.Scales(calibration.Statistics(input).AbsMax, SmoothQuant.WeightAbsMax(device, readers), smoothQuant.SmoothingStrength);
            }
        }

        var built = new Dictionary<LinearSlot, Linear>();
        DeviceTensor? inputNorm = null, postAttentionNorm = null;
        try
        {
            // Compute: input by input, each linear from its smoothed weights, quantized or kept in full precision.
            var reports = new List<LinearQuantizationReport>();
            foreach (var input in Enum.GetValues<LinearInput>())
            {
                QuantizeReaders(layer, input, sources, calibration, recipe, smoothing.GetValueOrDefault(input), device, beforeLinear, built, reports);
            }

            // Apply: norms divided by s, into a layer that owns all its tensors, beside the old weights.
            inputNorm = SmoothedNorm(device, original.InputNorm, smoothing.GetValueOrDefault(LinearInput.Attention));
            postAttentionNorm = SmoothedNorm(device, original.PostAttentionNorm, smoothing.GetValueOrDefault(LinearInput.Mlp));
            var weights = DecoderLayerWeights.Build(inputNorm, postAttentionNorm, slot => built[slot]);
            return (weights, new LayerQuantizationReport(layer, clock.Elapsed, reports));
        }
        catch
        {
            foreach (var linear in built.Values)
            {
                linear.Dispose();
            }

            inputNorm?.Dispose();
            postAttentionNorm?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The linears reading one input: each linear's own Hessian is built when it needs one (GPTQ consumes it) and freed
    /// right after, so at most one square per input lives beside the statistics (down_proj's is 1.6 GB at 8B).
    /// </summary>
    private static void QuantizeReaders(int layer, LinearInput input, IReadOnlyDictionary<LinearSlot, FloatLinear> sources, LayerCalibration calibration,
        QuantizationRecipe recipe, double[]? smoothing, IComputeDevice device, Action<string>? beforeLinear,
        Dictionary<LinearSlot, Linear> built, List<LinearQuantizationReport> reports)
    {
        var statistics = calibration.Statistics(input);
        using var scope = new DeviceScope();
        var scales = smoothing is null ? null : scope.Add(device.UploadVector<double>(smoothing));
        var inverse = smoothing is null ? null : scope.Add(device.UploadVector<double>(Array.ConvertAll(smoothing, s => 1 / s)));
        DeviceTensor? samples = null, servedInverse = null;
        foreach (var slot in LinearSlot.Readers(input))
        {
            var source = sources[slot];
            string module = slot.ModuleName(layer);
            using var weights = SmoothQuant.SmoothedWeights(device, source.Weight, scales);
            if (!recipe.Quantizes(module))
            {
                built[slot] = FloatCopy(device, weights, source.Weight.Type, source.Bias);
                continue;
            }

            beforeLinear?.Invoke(module);
            var quantized = Quantize(device, weights, statistics, inverse, recipe);
            try
            {
                // The served error on the reservoir's rows, uploaded once per input; the input served is x/s.
                var rows = calibration.Samples(input);
                double baselineError = 0, error = 0;
                if (rows.Count > 0)
                {
                    samples ??= scope.Add(UploadRows(device, rows, source.InputFeatures));
                    servedInverse ??= smoothing is null ? null : scope.Add(device.UploadVector<float>(Array.ConvertAll(smoothing, s => (float)(1 / s))));
                    using (var unsmoothed = DeviceCopies.Widen(device, source.Weight))
                    using (var baseline = RoundToNearest.Quantize(device, unsmoothed))
                    {
                        baselineError = W8A8Error.Relative(device, samples, source.Weight, baseline, null);
                    }

                    error = W8A8Error.Relative(device, samples, source.Weight, quantized, servedInverse);
                }

                double loss;
                using (var hessian = statistics.Hessian(inverse))
                {
                    loss = W8A8Error.WeightLoss(device, weights, quantized, hessian);
                }

                reports.Add(new LinearQuantizationReport(module, loss, baselineError, error));
                built[slot] = new Int8Linear(quantized.Values, quantized.Scales, source.Bias is null ? null : DeviceCopies.Copy(device, source.Bias));
            }
            catch
            {
                quantized.Dispose();
                throw;
            }
        }
    }

    private static QuantizedTensors Quantize(IComputeDevice device, DeviceTensor weights, LinearInputStatistics statistics, DeviceTensor? inverseSmoothing,
        QuantizationRecipe recipe)
    {
        if (recipe.Gptq is not { } gptq)
        {
            return RoundToNearest.Quantize(device, weights);
        }

        using var hessian = statistics.Hessian(inverseSmoothing);
        return Gptq.Quantize(device, weights, hessian, new GptqOptions(gptq.BlockSize, gptq.DampeningFrac, gptq.ActOrder));
    }

    /// <summary>The layer's linears as the quantizers read them; an int8 layer cannot be un-quantized.</summary>
    private static Dictionary<LinearSlot, FloatLinear> FullPrecisionLinears(DecoderLayerWeights weights)
    {
        RequireFullPrecision(weights);
        return LinearSlot.All.ToDictionary(s => s, s => (FloatLinear)s.Get(weights));
    }

    /// <summary>Throws unless every linear of <paramref name="weights"/> is full precision: quantization starts from those.</summary>
    public static DecoderLayerWeights RequireFullPrecision(DecoderLayerWeights weights)
    {
        foreach (var slot in LinearSlot.All)
        {
            if (slot.Get(weights) is not FloatLinear)
            {
                throw new InvalidOperationException($"{slot.Suffix} is already quantized; quantization starts from full-precision weights");
            }
        }

        return weights;
    }

    // The mapping's smooth layer must be one of this layer's norms, and every linear reading that norm must be
    // balanced by it: scaling a norm that some other linear also reads would change that linear's output.
    /// <summary>
    /// Checks the recipe's smoothing mappings against every layer of a model, before any calibration is spent: each
    /// must name one of a layer's norms and balance every linear reading it.
    /// </summary>
    public static void Validate(QuantizationRecipe recipe, int layers)
    {
        recipe.Validate("recipe");
        foreach (var mapping in recipe.SmoothQuant?.Mappings ?? [])
        {
            for (int layer = 0; layer < layers; layer++)
            {
                SmoothedInput(layer, mapping);
            }
        }
    }

    private static LinearInput SmoothedInput(int layer, SmoothingMapping mapping)
    {
        foreach (var input in new[] { LinearInput.Attention, LinearInput.Mlp })
        {
            string norm = $"{DecoderLayerWeights.Prefix(layer)}.{LinearSlot.NormSuffix(input)}";
            if (!LayerPatterns.Matches(mapping.SmoothLayer, norm))
            {
                continue;
            }

            var unbalanced = LinearSlot.Readers(input).Select(s => s.ModuleName(layer)).Where(m => !mapping.Balances(m)).ToArray();
            if (unbalanced.Length > 0)
            {
                throw new ModelFormatException("recipe", $"SmoothQuantModifier.mappings: '{mapping.SmoothLayer}' smooths {norm}, which {string.Join(", ", unbalanced)} also read; expected every reader among the balance layers");
            }

            return input;
        }

        throw new ModelFormatException("recipe", $"SmoothQuantModifier.mappings: smooth layer '{mapping.SmoothLayer}' matches no RMSNorm of layer {layer}; expected input_layernorm or post_attention_layernorm");
    }

    private static DeviceTensor SmoothedNorm(IComputeDevice device, DeviceTensor gains, double[]? smoothing)
    {
        using var inverse = smoothing is null ? null : device.UploadVector<double>(Array.ConvertAll(smoothing, s => 1 / s));
        return SmoothQuant.SmoothedNorm(device, gains, inverse);
    }

    /// <summary>A linear kept in full precision: the smoothed weights rounded back to the source's type, with its own bias.</summary>
    private static FloatLinear FloatCopy(IComputeDevice device, DeviceTensor weights, TensorType type, DeviceTensor? bias)
    {
        var narrow = DeviceCopies.Narrow(device, weights, type);
        try
        {
            return new FloatLinear(narrow, bias is null ? null : DeviceCopies.Copy(device, bias));
        }
        catch
        {
            narrow.Dispose();
            throw;
        }
    }

    /// <summary>Reservoir rows as one Float32 <c>[rows, width]</c> tensor, uploaded in one copy.</summary>
    private static DeviceTensor UploadRows(IComputeDevice device, IReadOnlyList<float[]> rows, int width)
    {
        var values = new float[rows.Count * width];
        for (int r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(values, r * width);
        }

        return device.UploadNew<float>(values, rows.Count, width);
    }
}
