using OrleansQuant.Gpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>One tensor of a checkpoint, read back from a device: int8 values or float32 values.</summary>
public sealed record ExportedTensor(string Name, long[] Shape, sbyte[]? Int8, float[]? Float32)
{
    /// <summary>Bytes on disk: int8 stays int8, floats are stored as float32 (the precision they are served in).</summary>
    public long ByteLength => Int8 is not null ? Int8.LongLength : Float32!.LongLength * sizeof(float);

    public void AddTo(SafeTensorsWriter writer)
    {
        if (Int8 is not null)
        {
            writer.AddInt8(Name, Shape, Int8);
        }
        else
        {
            writer.AddFloat32(Name, Shape, Float32!);
        }
    }
}

/// <summary>
/// The tensors a layer or the model's ends are stored as, under Hugging Face names: int8 <c>weight</c> and
/// <c>weight_scale</c> <c>[out, 1]</c> for W8A8 linears (compressed-tensors int-quantized), float32 for the rest.
/// </summary>
public static class LayerTensors
{
    public static IEnumerable<ExportedTensor> Layer(int layer, DecoderLayerWeights weights)
    {
        string prefix = DecoderLayerWeights.Prefix(layer);
        yield return Vector($"{prefix}.input_layernorm.weight", weights.InputNorm);
        yield return Vector($"{prefix}.post_attention_layernorm.weight", weights.PostAttentionNorm);
        foreach (var slot in LinearSlot.All)
        {
            string module = slot.ModuleName(layer);
            switch (slot.Get(weights))
            {
                case Int8Linear int8:
                    yield return new ExportedTensor($"{module}.weight", [int8.Weight.Rows, int8.Weight.Columns], int8.Weight.ToArray<sbyte>(), null);
                    yield return new ExportedTensor($"{module}.weight_scale", [int8.WeightScales.Columns, 1], null, int8.WeightScales.ToArray<float>());
                    if (int8.Bias is not null)
                    {
                        yield return Vector($"{module}.bias", int8.Bias);
                    }

                    break;
                case FloatLinear fp:
                    yield return Matrix($"{module}.weight", fp.Weight);
                    if (fp.Bias is not null)
                    {
                        yield return Vector($"{module}.bias", fp.Bias);
                    }

                    break;
                case var other:
                    throw new NotSupportedException($"{module}: cannot export a {other.GetType().Name}");
            }
        }
    }

    /// <summary>Embedding, final norm and, when untied, lm_head — which stay full precision.</summary>
    public static IEnumerable<ExportedTensor> Head(OutputHead head)
    {
        yield return Matrix("model.embed_tokens.weight", head.Embedding);
        yield return Vector("model.norm.weight", head.FinalNorm);
        if (!head.Config.TieWordEmbeddings)
        {
            yield return Matrix("lm_head.weight", head.LmHead);
        }
    }

    private static ExportedTensor Matrix(string name, DeviceTensor tensor) => new(name, [tensor.Rows, tensor.Columns], null, tensor.ToFloats());

    private static ExportedTensor Vector(string name, DeviceTensor tensor) => new(name, [tensor.Columns], null, tensor.ToArray<float>());
}
