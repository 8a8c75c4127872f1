namespace OrleansQuant.ChatTemplates;

/// <summary>
/// A chat template that cannot be parsed or rendered: a syntax error, an unknown tag, filter or test, a run-time
/// failure, or the template's own raise_exception. The message names the source and, where there is one, the
/// template's line:column. OrleansQuant.Model turns it into its ModelFormatException at the tokenizer boundary.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(string source, string detail)
        : base($"{source}: {detail}")
    {
        Source = source;
        Detail = detail;
    }

    /// <summary>What went wrong, without the source prefix that <see cref="Exception.Message"/> carries.</summary>
    public string Detail { get; }
}
