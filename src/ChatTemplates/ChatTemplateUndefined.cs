namespace OrleansQuant.ChatTemplates;

/// <summary>
/// A name or key the template reads but nobody set. As in Jinja it prints as "", is falsy, iterates as empty and
/// passes <c>is defined</c> checks; templates probe optional fields such as <c>message.tool_calls</c> this way.
/// </summary>
internal sealed class ChatTemplateUndefined(string name)
{
    public string Name { get; } = name;
}
