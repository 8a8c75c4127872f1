namespace OrleansQuant.Model.Tests.Recipes;

/// <summary>Recipe files as llm-compressor users write them, shared by the reader, writer and flag tests.</summary>
internal static class RecipeTexts
{
    /// <summary>llm-compressor's W8A8 SmoothQuant + GPTQ example recipe for Llama.</summary>
    public const string W8A8Yaml = """
        quant_stage:
          quant_modifiers:
            SmoothQuantModifier:
              smoothing_strength: 0.8
              mappings:
                - [["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], "re:.*input_layernorm"]
                - [["re:.*gate_proj", "re:.*up_proj"], "re:.*post_attention_layernorm"]
            GPTQModifier:
              targets: [Linear]
              scheme: W8A8
              ignore: [lm_head]
              block_size: 128
              dampening_frac: 0.01
              actorder: false
        """;

    /// <summary>The same recipe as JSON.</summary>
    public const string W8A8Json = """
        {
          "quant_stage": {
            "quant_modifiers": {
              "SmoothQuantModifier": {
                "smoothing_strength": 0.8,
                "mappings": [
                  [["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], "re:.*input_layernorm"],
                  [["re:.*gate_proj", "re:.*up_proj"], "re:.*post_attention_layernorm"]
                ]
              },
              "GPTQModifier": {
                "targets": ["Linear"],
                "scheme": "W8A8",
                "ignore": ["lm_head"],
                "block_size": 128,
                "dampening_frac": 0.01,
                "actorder": false
              }
            }
          }
        }
        """;
}
