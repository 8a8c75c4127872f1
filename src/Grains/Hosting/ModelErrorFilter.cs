using OrleansQuant.Model;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Turns the model layer's <see cref="ModelFormatException"/> (bad file, config, recipe) into an
/// <see cref="ArgumentException"/> with the same message at the grain boundary: Orleans carries that type to any
/// client, while an exception type it has no codec for (here or as an inner exception) would reach the caller as a
/// serialization error instead.
/// </summary>
public sealed class ModelErrorFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (ModelFormatException error)
        {
            throw new ArgumentException(error.Message);
        }
    }
}
