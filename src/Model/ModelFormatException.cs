namespace OrleansQuant.Model;

/// <summary>
/// A model file (checkpoint, config, tokenizer, recipe) that cannot be used as it is.
/// The message always names the file, the field or tensor, and what was expected instead.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string source, string message)
        : base($"{source}: {message}")
    {
        Source = source;
    }

    public ModelFormatException(string source, string message, Exception inner)
        : base($"{source}: {message}", inner)
    {
        Source = source;
    }
}
