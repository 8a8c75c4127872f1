using System.CommandLine;
using OrleansQuant.Model.Recipes;

namespace OrleansQuant.Silo.Commands;

/// <summary>The recipe fields a user can override on the command line, on top of the default or a recipe file.</summary>
internal sealed class RecipeOptions
{
    private readonly Option<string?> _strength = new("--smoothing-strength") { Description = "SmoothQuant α in [0, 1] (0.8)" };
    private readonly Option<string?> _blockSize = new("--block-size") { Description = "GPTQ block size (128)" };
    private readonly Option<string?> _dampening = new("--dampening-frac") { Description = "GPTQ dampening fraction (0.01)" };
    private readonly Option<bool> _actOrder = new("--actorder") { Description = "GPTQ act-order" };
    private readonly Option<bool> _noSmoothQuant = new("--no-smoothquant") { Description = "Skip SmoothQuant" };
    private readonly Option<string?> _method = new("--method") { Description = "gptq or rtn" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _strength, _blockSize, _dampening, _actOrder, _noSmoothQuant, _method })
        {
            command.Options.Add(option);
        }
    }

    public QuantizationRecipe Apply(ParseResult parse, QuantizationRecipe recipe) =>
        RecipeFlags.Apply(recipe, parse.GetValue(_strength), parse.GetValue(_blockSize), parse.GetValue(_dampening),
            parse.GetValue(_actOrder) ? true : null, parse.GetValue(_noSmoothQuant), parse.GetValue(_method));
}
