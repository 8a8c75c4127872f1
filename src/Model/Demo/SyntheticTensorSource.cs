using System.Text.RegularExpressions;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Demo;

/// <summary>
/// The tensors of a <see cref="DemoModelSpec"/> made on the device that asks for them, with
/// <see cref="IComputeDevice.FillNormal"/> seeded by (model seed, tensor name) — so a tensor never depends on which
/// others were made before it — and the scales of <see cref="DemoModelWriter"/>: outlier channels in the RMSNorm
/// gains (made on the host: they are vectors) that q/k/v and gate/up inputs carry at 20–100×, the columns reading
/// them damped by 1/√gain, residual branches shrunk with depth. Same design as the written demo checkpoints; not
/// the same values (those come from a host stream).
/// </summary>
internal sealed partial class SyntheticTensorSource(DemoModelSpec spec) : ITensorSource
{
    private enum Kind
    {
        Embedding,
        Head,
        FinalNorm,
        LayerNorm,
        InputWeight,
        BranchWeight,
        Bias,
    }

    private readonly float[] _outlierGains = spec.OutlierGainPerChannel();

    public string Origin => SyntheticModels.Prefix + spec.Name;

    public bool Contains(string name) => Describe(name) is not null;

    public DeviceTensor LoadFloat(string name, int rows, int columns, TensorType type, IComputeDevice device)
    {
        var (kind, expectedRows, expectedColumns) = Describe(name)
            ?? throw new ModelFormatException(Origin, $"tensor '{name}' is not part of a synthetic {spec.Config.Architecture} with this config");
        if (expectedRows != rows || expectedColumns != columns)
        {
            throw new ModelFormatException(Origin, $"tensor '{name}' is [{expectedRows}, {expectedColumns}]; asked for [{rows}, {columns}]");
        }

        ulong seed = Seed(name);
        return kind switch
        {
            Kind.FinalNorm => device.UploadNew<float>(NormGains(seed, outliers: false), 1, columns),
            Kind.LayerNorm => device.UploadNew<float>(NormGains(seed, outliers: true), 1, columns),
            _ => Stored(device, Normal(device, kind, rows, columns, seed), type),
        };
    }

    public (DeviceTensor Weight, DeviceTensor Scales) LoadInt8(string prefix, int outputs, int inputs, IComputeDevice device) =>
        throw new ModelFormatException(Origin, $"a synthetic model is full precision; it has no int8 '{prefix}.weight'");

    /// <summary>A Float32 matrix as <paramref name="type"/>: rounded to bf16 on its device (the float copy freed) when asked.</summary>
    private static DeviceTensor Stored(IComputeDevice device, DeviceTensor values, TensorType type)
    {
        if (type == TensorType.Float32)
        {
            return values;
        }

        using (values)
        {
            return device.Converted(values, type);
        }
    }

    /// <summary>The seed of one tensor: the model's seed and the tensor's name, mixed so that neighbouring names differ in every bit.</summary>
    internal ulong Seed(string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return CounterNormal.Bits(hash, (uint)spec.Seed);
    }

    private DeviceTensor Normal(IComputeDevice device, Kind kind, int rows, int columns, ulong seed)
    {
        var config = spec.Config;
        float embeddingStd = 3f / MathF.Sqrt(config.HiddenSize);
        float branchScale = 1f / MathF.Sqrt(2f * config.NumHiddenLayers);
        float std = kind switch
        {
            // Logits of a unit-RMS hidden state then spread with a standard deviation of about 3, as DemoModelWriter's.
            Kind.Embedding => embeddingStd * spec.EmbeddingGain,
            Kind.Head => embeddingStd,
            Kind.InputWeight => 1f / MathF.Sqrt(columns),

            // Residual branches shrink with depth so the stream stays bounded through every layer.
            Kind.BranchWeight => branchScale / MathF.Sqrt(columns),
            _ => 0.1f,
        };

        var tensor = device.Allocate(TensorType.Float32, rows, columns);
        try
        {
            device.FillNormal(tensor, seed, std);
            if (kind == Kind.InputWeight && _outlierGains.Any(g => g > 0))
            {
                // Columns reading an outlier channel are damped by 1/√gain so that channel neither vanishes nor swamps the output.
                using var damp = device.UploadNew<float>(_outlierGains.Select(g => g > 0 ? 1f / MathF.Sqrt(g) : 1f).ToArray(), 1, columns);
                device.ScaleColumns(tensor, damp);
            }

            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    // Gains uniform in [0.8, 1.2), from the same counter generator, except the outlier channels, which carry their
    // large gain into every linear that reads the norm.
    private float[] NormGains(ulong seed, bool outliers)
    {
        var gains = new float[spec.Config.HiddenSize];
        for (int c = 0; c < gains.Length; c++)
        {
            float uniform = (CounterNormal.Bits(seed, (ulong)c) >> 40) * (1f / (1 << 24));
            gains[c] = 0.8f + 0.4f * uniform;
            if (outliers && _outlierGains[c] > 0)
            {
                gains[c] *= _outlierGains[c];
            }
        }

        return gains;
    }

    private (Kind Kind, int Rows, int Columns)? Describe(string name)
    {
        var c = spec.Config;
        int hidden = c.HiddenSize, query = c.NumAttentionHeads * c.HeadDim, kv = c.NumKeyValueHeads * c.HeadDim;
        switch (name)
        {
            case "model.embed_tokens.weight":
                return (Kind.Embedding, c.VocabSize, hidden);
            case "lm_head.weight":
                return c.TieWordEmbeddings ? null : (Kind.Head, c.VocabSize, hidden);
            case "model.norm.weight":
                return (Kind.FinalNorm, 1, hidden);
        }

        var match = LayerTensor().Match(name);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out int layer) || layer >= c.NumHiddenLayers)
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "input_layernorm.weight" or "post_attention_layernorm.weight" => (Kind.LayerNorm, 1, hidden),
            "self_attn.q_proj.weight" => (Kind.InputWeight, query, hidden),
            "self_attn.k_proj.weight" or "self_attn.v_proj.weight" => (Kind.InputWeight, kv, hidden),
            "self_attn.q_proj.bias" when c.AttentionBias => (Kind.Bias, 1, query),
            "self_attn.k_proj.bias" or "self_attn.v_proj.bias" when c.AttentionBias => (Kind.Bias, 1, kv),
            "self_attn.o_proj.weight" => (Kind.BranchWeight, hidden, query),
            "mlp.gate_proj.weight" or "mlp.up_proj.weight" => (Kind.InputWeight, c.IntermediateSize, hidden),
            "mlp.down_proj.weight" => (Kind.BranchWeight, hidden, c.IntermediateSize),
            _ => null,
        };
    }

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerTensor();
}
