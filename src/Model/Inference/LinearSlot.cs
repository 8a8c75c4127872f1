namespace OrleansQuant.Model.Inference;

/// <summary>
/// One of the seven linears of a Llama-family layer: its Hugging Face module name, the input it reads, and where it
/// sits in <see cref="DecoderLayerWeights"/>. Quantization, saving and loading all walk this one list.
/// </summary>
public sealed record LinearSlot(string Suffix, LinearInput Input, Func<DecoderLayerWeights, Linear> Get, Action<DecoderLayerWeights, Linear> Set)
{
    public static IReadOnlyList<LinearSlot> All { get; } =
    [
        new("self_attn.q_proj", LinearInput.Attention, w => w.QueryProjection, (w, l) => w.QueryProjection = l),
        new("self_attn.k_proj", LinearInput.Attention, w => w.KeyProjection, (w, l) => w.KeyProjection = l),
        new("self_attn.v_proj", LinearInput.Attention, w => w.ValueProjection, (w, l) => w.ValueProjection = l),
        new("self_attn.o_proj", LinearInput.AttentionOutput, w => w.OutputProjection, (w, l) => w.OutputProjection = l),
        new("mlp.gate_proj", LinearInput.Mlp, w => w.GateProjection, (w, l) => w.GateProjection = l),
        new("mlp.up_proj", LinearInput.Mlp, w => w.UpProjection, (w, l) => w.UpProjection = l),
        new("mlp.down_proj", LinearInput.MlpDown, w => w.DownProjection, (w, l) => w.DownProjection = l),
    ];

    /// <summary>The linears that read <paramref name="input"/> (q/k/v for the attention input, gate/up for the MLP's).</summary>
    public static IEnumerable<LinearSlot> Readers(LinearInput input) => All.Where(s => s.Input == input);

    public string ModuleName(int layer) => $"{DecoderLayerWeights.Prefix(layer)}.{Suffix}";

    /// <summary>The RMSNorm whose output an input is, for the inputs that have one (SmoothQuant folds into it).</summary>
    public static string? NormSuffix(LinearInput input) => input switch
    {
        LinearInput.Attention => "input_layernorm",
        LinearInput.Mlp => "post_attention_layernorm",
        _ => null,
    };
}
