namespace OrleansQuant.ChatTemplates;

/// <summary>
/// The object <c>namespace(...)</c> returns: the one mutable value, because in Jinja a <c>{% set %}</c> inside a
/// loop does not outlive the iteration, and templates carry state across iterations through <c>ns.x</c>.
/// </summary>
internal sealed class ChatTemplateNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
