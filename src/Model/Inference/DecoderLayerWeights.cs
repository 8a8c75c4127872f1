using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// The tensors of one Llama-family decoder layer under their Hugging Face names
/// (<c>model.layers.{i}.self_attn.q_proj</c>, <c>…mlp.down_proj</c>, the two RMSNorm gains).
/// </summary>
public sealed class DecoderLayerWeights : IDisposable
{
    public required DeviceTensor InputNorm { get; init; }

    public required Linear QueryProjection { get; set; }

    public required Linear KeyProjection { get; set; }

    public required Linear ValueProjection { get; set; }

    public required Linear OutputProjection { get; set; }

    public required DeviceTensor PostAttentionNorm { get; init; }

    public required Linear GateProjection { get; set; }

    public required Linear UpProjection { get; set; }

    public required Linear DownProjection { get; set; }

    public static string Prefix(int layer) => $"model.layers.{layer}";

    public static DecoderLayerWeights Load(WeightLoader loader, ModelConfig config, int layer)
    {
        string p = Prefix(layer);
        int hidden = config.HiddenSize, query = config.NumAttentionHeads * config.HeadDim;
        int kv = config.NumKeyValueHeads * config.HeadDim, intermediate = config.IntermediateSize;
        return new DecoderLayerWeights
        {
            InputNorm = loader.LoadVector($"{p}.input_layernorm.weight", hidden),
            QueryProjection = loader.LoadLinearOrInt8($"{p}.self_attn.q_proj", query, hidden, config.AttentionBias),
            KeyProjection = loader.LoadLinearOrInt8($"{p}.self_attn.k_proj", kv, hidden, config.AttentionBias),
            ValueProjection = loader.LoadLinearOrInt8($"{p}.self_attn.v_proj", kv, hidden, config.AttentionBias),
            OutputProjection = loader.LoadLinearOrInt8($"{p}.self_attn.o_proj", hidden, query, bias: false),
            PostAttentionNorm = loader.LoadVector($"{p}.post_attention_layernorm.weight", hidden),
            GateProjection = loader.LoadLinearOrInt8($"{p}.mlp.gate_proj", intermediate, hidden, bias: false),
            UpProjection = loader.LoadLinearOrInt8($"{p}.mlp.up_proj", intermediate, hidden, bias: false),
            DownProjection = loader.LoadLinearOrInt8($"{p}.mlp.down_proj", hidden, intermediate, bias: false),
        };
    }

    /// <summary>A layer assembled in memory (by a quantizer) rather than read from a checkpoint.</summary>
    public static DecoderLayerWeights Build(IComputeDevice device, float[] inputNorm, float[] postAttentionNorm, Func<LinearSlot, Linear> linear) =>
        Build(device.UploadVector<float>(inputNorm), device.UploadVector<float>(postAttentionNorm), linear);

    /// <summary>A layer assembled from tensors already on its device, which it now owns.</summary>
    public static DecoderLayerWeights Build(DeviceTensor inputNorm, DeviceTensor postAttentionNorm, Func<LinearSlot, Linear> linear)
    {
        return new DecoderLayerWeights
        {
            InputNorm = inputNorm,
            PostAttentionNorm = postAttentionNorm,
            QueryProjection = linear(LinearSlot.All[0]),
            KeyProjection = linear(LinearSlot.All[1]),
            ValueProjection = linear(LinearSlot.All[2]),
            OutputProjection = linear(LinearSlot.All[3]),
            GateProjection = linear(LinearSlot.All[4]),
            UpProjection = linear(LinearSlot.All[5]),
            DownProjection = linear(LinearSlot.All[6]),
        };
    }

    /// <summary>
    /// The forms a step must make of <paramref name="input"/>: float when a full-precision linear reads it or
    /// calibration observes it, int8 when a W8A8 linear reads it (a partly quantized layer needs both).
    /// </summary>
    public LinearForms Forms(LinearInput input, bool observed)
    {
        bool float32 = observed, int8 = false;
        foreach (var slot in LinearSlot.Readers(input))
        {
            bool reads = slot.Get(this).ReadsInt8;
            int8 |= reads;
            float32 |= !reads;
        }

        return new LinearForms(float32, int8);
    }

    /// <summary>
    /// The type of this layer's full-precision linear weights (Float32 or BFloat16: all of a layer's are stored alike);
    /// Float32 when every linear is int8.
    /// </summary>
    public TensorType FloatWeightType =>
        LinearSlot.All.Select(slot => slot.Get(this)).OfType<FloatLinear>().Select(linear => linear.Weight.Type).FirstOrDefault(TensorType.Float32);

    public long ByteLength =>
        InputNorm.ByteLength + PostAttentionNorm.ByteLength + QueryProjection.ByteLength + KeyProjection.ByteLength
        + ValueProjection.ByteLength + OutputProjection.ByteLength + GateProjection.ByteLength
        + UpProjection.ByteLength + DownProjection.ByteLength;

    public void Dispose()
    {
        InputNorm.Dispose();
        QueryProjection.Dispose();
        KeyProjection.Dispose();
        ValueProjection.Dispose();
        OutputProjection.Dispose();
        PostAttentionNorm.Dispose();
        GateProjection.Dispose();
        UpProjection.Dispose();
        DownProjection.Dispose();
    }
}
