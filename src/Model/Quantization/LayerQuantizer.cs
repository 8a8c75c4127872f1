using System.Diagnostics;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// Applies a recipe to one decoder layer, in llm-compressor's order: SmoothQuant (scales from the collected |x|max,
/// folded into norms and weights, Hessians rescaled), then GPTQ or round-to-nearest on every targeted linear, then
/// the new weights are built on the device beside the old ones. The caller swaps them in.
/// </summary>
public static class LayerQuantizer
{
    /// <param name="beforeLinear">called with each module name before it is quantized (progress, fault injection).</param>
    public static (DecoderLayerWeights Weights, LayerQuantizationReport Report) Quantize(
        int layer, HostLayerWeights original, LayerCalibration calibration, QuantizationRecipe recipe, IComputeDevice device,
        Action<string>? beforeLinear = null)
    {
        recipe.Validate("recipe");
        var clock = Stopwatch.StartNew();

        // The host maths uses the cores the layer's device was given, no more.
        var parallelism = device.Parallelism;

        // Compute: smoothing scales per mapped input, then the smoothed weights, norms and Hessians.
        var smoothing = new Dictionary<LinearInput, double[]>();
        if (recipe.SmoothQuant is { } smoothQuant)
        {
            foreach (var mapping in smoothQuant.Mappings)
            {
                var input = SmoothedInput(layer, mapping);
                var readers = LinearSlot.Readers(input).ToArray();
                smoothing[input] = SmoothQuant.Scales(calibration.Statistics(input).AbsMax,
                    readers.Select(s => (original.Linears[s].Weights, original.Linears[s].Rows)), smoothQuant.SmoothingStrength);
            }
        }

        var hessians = new Dictionary<LinearInput, double[]>();
        foreach (var input in Enum.GetValues<LinearInput>())
        {
            var h = calibration.Statistics(input).Hessian();
            if (smoothing.TryGetValue(input, out var s))
            {
                SmoothQuant.ScaleHessian(h, s);
            }

            hessians[input] = h;
        }

        // Quantize every targeted linear; the rest keep (smoothed) full precision.
        var quantized = new Dictionary<LinearSlot, QuantizedWeights>();
        var smoothedWeights = new Dictionary<LinearSlot, double[]>();
        var reports = new List<LinearQuantizationReport>();
        foreach (var (slot, linear) in original.Linears)
        {
            var weights = linear.Weights.ToArray();
            var s = smoothing.GetValueOrDefault(slot.Input);
            if (s is not null)
            {
                SmoothQuant.ScaleColumns(weights, linear.Rows, s);
            }

            smoothedWeights[slot] = weights;
            string module = slot.ModuleName(layer);
            if (!recipe.Quantizes(module))
            {
                continue;
            }

            beforeLinear?.Invoke(module);
            var q = recipe.Gptq is { } gptq
                ? Gptq.Quantize(weights, linear.Rows, linear.Columns, hessians[slot.Input], new GptqOptions(gptq.BlockSize, gptq.DampeningFrac, gptq.ActOrder), parallelism)
                : RoundToNearest.Quantize(weights, linear.Rows, linear.Columns);
            quantized[slot] = q;

            var samples = calibration.Samples(slot.Input);
            var baseline = RoundToNearest.Quantize(linear.Weights, linear.Rows, linear.Columns);
            reports.Add(new LinearQuantizationReport(
                module,
                W8A8Error.WeightLoss(weights, q, hessians[slot.Input], parallelism),
                W8A8Error.Relative(samples, linear.Weights, baseline, [], parallelism),
                W8A8Error.Relative(samples, linear.Weights, q, s, parallelism)));
        }

        // Apply: norms divided by s, linears uploaded as int8 (or smoothed float), all beside the old weights.
        var weightsOut = DecoderLayerWeights.Build(device,
            SmoothedNorm(original.InputNorm, smoothing.GetValueOrDefault(LinearInput.Attention)),
            SmoothedNorm(original.PostAttentionNorm, smoothing.GetValueOrDefault(LinearInput.Mlp)),
            slot => quantized.TryGetValue(slot, out var q)
                ? UploadInt8(device, q, original.Linears[slot].Bias)
                : UploadFloat(device, smoothedWeights[slot], original.Linears[slot]));
        return (weightsOut, new LayerQuantizationReport(layer, clock.Elapsed, reports));
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

    private static float[] SmoothedNorm(double[] gains, double[]? scales) =>
        gains.Select((g, c) => (float)(scales is null ? g : g / scales[c])).ToArray();

    private static Int8Linear UploadInt8(IComputeDevice device, QuantizedWeights q, float[]? bias) =>
        new(device.UploadNew<sbyte>(q.Values, q.Rows, q.Columns), device.UploadVector<float>(q.Scales), bias is null ? null : device.UploadVector<float>(bias));

    private static FloatLinear UploadFloat(IComputeDevice device, double[] weights, HostLinear linear) =>
        new(device.UploadNew<float>(Array.ConvertAll(weights, w => (float)w), linear.Rows, linear.Columns),
            linear.Bias is null ? null : device.UploadVector<float>(linear.Bias));
}
