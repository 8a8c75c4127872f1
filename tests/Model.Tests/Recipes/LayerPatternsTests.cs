using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Model.Tests.Recipes;

public sealed class LayerPatternsTests
{
    [Theory]
    // "re:" is Python re.match: anchored at the start, free at the end.
    [InlineData("re:.*q_proj", "model.layers.3.self_attn.q_proj", true)]
    [InlineData("re:q_proj", "model.layers.3.self_attn.q_proj", false)]
    [InlineData("re:model\\.layers\\.3\\.", "model.layers.3.self_attn.q_proj", true)]
    [InlineData("re:model\\.layers\\.3\\.", "model.layers.13.self_attn.q_proj", false)]
    [InlineData("re:.*q_proj|.*k_proj", "model.layers.3.self_attn.k_proj", true)]
    [InlineData("re:.*input_layernorm", "model.layers.3.input_layernorm", true)]
    [InlineData("re:.*input_layernorm", "model.layers.3.post_attention_layernorm", false)]
    [InlineData("re:.*mlp\\.down_proj$", "model.layers.0.mlp.down_proj", true)]
    // Plain names: the whole name, or a suffix that starts after a '.'.
    [InlineData("lm_head", "lm_head", true)]
    [InlineData("q_proj", "model.layers.3.self_attn.q_proj", true)]
    [InlineData("self_attn.q_proj", "model.layers.3.self_attn.q_proj", true)]
    [InlineData("proj", "model.layers.3.self_attn.q_proj", false)]
    [InlineData("model.layers.3.self_attn.q_proj", "model.layers.3.self_attn.q_proj", true)]
    [InlineData("3.self_attn.q_proj", "model.layers.13.self_attn.q_proj", false)]
    // "Linear" is the class name: every projection and lm_head, never a norm or the embedding.
    [InlineData("Linear", "model.layers.3.mlp.down_proj", true)]
    [InlineData("Linear", "lm_head", true)]
    [InlineData("Linear", "model.layers.3.input_layernorm", false)]
    [InlineData("Linear", "model.embed_tokens", false)]
    public void Matches_follows_llm_compressor(string pattern, string moduleName, bool expected)
    {
        Assert.Equal(expected, LayerPatterns.Matches(pattern, moduleName));
    }

    [Fact]
    public void LinearNames_lists_the_seven_projections_in_checkpoint_order()
    {
        Assert.Equal(
            [
                "model.layers.5.self_attn.q_proj",
                "model.layers.5.self_attn.k_proj",
                "model.layers.5.self_attn.v_proj",
                "model.layers.5.self_attn.o_proj",
                "model.layers.5.mlp.gate_proj",
                "model.layers.5.mlp.up_proj",
                "model.layers.5.mlp.down_proj",
            ],
            LayerPatterns.LinearNames(5));
    }

    [Fact]
    public void Default_gptq_quantizes_every_projection_but_not_lm_head()
    {
        GptqModifier gptq = GptqModifier.Default;

        Assert.All(LayerPatterns.LinearNames(31), name => Assert.True(gptq.Quantizes(name), name));
        Assert.False(gptq.Quantizes("lm_head"));
        Assert.False(gptq.Quantizes("model.layers.31.input_layernorm"));
    }

    [Fact]
    public void Default_mappings_balance_qkv_from_input_norm_and_gate_up_from_post_attention_norm()
    {
        IReadOnlyList<SmoothingMapping> mappings = SmoothingMapping.LlamaDefaults;
        string[] names = [.. LayerPatterns.LinearNames(2)];

        Assert.Equal(names[..3], names.Where(mappings[0].Balances));
        Assert.Equal(names[4..6], names.Where(mappings[1].Balances));
        Assert.True(LayerPatterns.Matches(mappings[0].SmoothLayer, LayerPatterns.NormNames(2)[0]));
        Assert.True(LayerPatterns.Matches(mappings[1].SmoothLayer, LayerPatterns.NormNames(2)[1]));
    }
}
