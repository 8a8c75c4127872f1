using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Silo.Errors;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// Checks recipe text here, with the reader and the layer check the grain runs, so a bad recipe is a 400 naming the
/// field "recipe" and what in it is wrong, before any job starts; nothing of the model is touched.
/// </summary>
internal static class AdminRecipe
{
    /// <param name="layers">the model's layer count, for the smoothing mappings' check; 0 skips it (the grain checks again).</param>
    /// <param name="required">whether empty text is refused; otherwise it means the default W8A8 recipe.</param>
    public static void Check(string? text, int layers, bool required)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                throw OpenAiException.BadRequest("recipe", "recipe is empty; expected llm-compressor recipe text (YAML or JSON) with a GPTQModifier or QuantizationModifier");
            }

            return;
        }

        try
        {
            var recipe = RecipeReader.Parse(text, "recipe");
            if (layers > 0)
            {
                LayerQuantizer.Validate(recipe, layers);
            }
        }
        catch (Exception e) when (ExpectedError.Classify(e, interrupted: false) is { ExitCode: ExpectedError.BadInput })
        {
            throw OpenAiException.BadRequest("recipe", e.Message);
        }
    }
}
