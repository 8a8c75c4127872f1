using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// A full-precision copy of one layer's weights on the host, in double, for the quantizers to transform: the
/// RMSNorm gains and, per linear, W <c>[rows, columns]</c> and its bias.
/// </summary>
public sealed class HostLayerWeights
{
    private HostLayerWeights(double[] inputNorm, double[] postAttentionNorm, Dictionary<LinearSlot, HostLinear> linears)
    {
        InputNorm = inputNorm;
        PostAttentionNorm = postAttentionNorm;
        Linears = linears;
    }

    public double[] InputNorm { get; }

    public double[] PostAttentionNorm { get; }

    public IReadOnlyDictionary<LinearSlot, HostLinear> Linears { get; }

    public double[] Norm(LinearInput input) => input switch
    {
        LinearInput.Attention => InputNorm,
        LinearInput.Mlp => PostAttentionNorm,
        _ => throw new ArgumentException($"{input} has no RMSNorm in front of it", nameof(input)),
    };

    /// <summary>Copies a layer's full-precision weights off its device; int8 layers cannot be un-quantized.</summary>
    public static HostLayerWeights Download(DecoderLayerWeights weights)
    {
        var linears = new Dictionary<LinearSlot, HostLinear>();
        foreach (var slot in LinearSlot.All)
        {
            if (slot.Get(weights) is not FloatLinear linear)
            {
                throw new InvalidOperationException($"{slot.Suffix} is already quantized; quantization starts from full-precision weights");
            }

            linears[slot] = new HostLinear(linear.OutputFeatures, linear.InputFeatures, ToDouble(linear.Weight), linear.Bias?.ToArray<float>());
        }

        return new HostLayerWeights(ToDouble(weights.InputNorm), ToDouble(weights.PostAttentionNorm), linears);
    }


    private static double[] ToDouble(DeviceTensor tensor) => Array.ConvertAll(tensor.ToArray<float>(), v => (double)v);
}

/// <summary>One linear on the host: W <c>[Rows, Columns]</c> in double and its bias.</summary>
public sealed record HostLinear(int Rows, int Columns, double[] Weights, float[]? Bias);
