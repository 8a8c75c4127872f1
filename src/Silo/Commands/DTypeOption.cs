using System.CommandLine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Silo.Commands;

/// <summary>vLLM's <c>--dtype</c>: what full-precision weights, activations and the KV cache are stored as (<see cref="WeightPrecision"/>), checked when parsed.</summary>
internal static class DTypeOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--dtype")
        {
            Description = $"Full-precision weights, activations and KV cache as {WeightPrecisions.Names}; auto is bfloat16 on GPUs, float32 on CPU devices",
            DefaultValueFactory = _ => "auto",
        };
        option.Validators.Add(result =>
        {
            try
            {
                WeightPrecisions.Parse(result.GetValueOrDefault<string>());
            }
            catch (ArgumentException ex)
            {
                result.AddError(ex.Message);
            }
        });
        return option;
    }
}
