namespace OrleansQuant.Model.Inference;

/// <summary>
/// The four distinct inputs of a decoder layer's linears. Linears that share an input share its statistics:
/// q/k/v read <see cref="Attention"/>, gate/up read <see cref="Mlp"/>.
/// </summary>
public enum LinearInput
{
    /// <summary>input_layernorm output, read by q_proj, k_proj, v_proj.</summary>
    Attention,

    /// <summary>attention output, read by o_proj.</summary>
    AttentionOutput,

    /// <summary>post_attention_layernorm output, read by gate_proj, up_proj.</summary>
    Mlp,

    /// <summary>silu(gate) * up, read by down_proj.</summary>
    MlpDown,
}
