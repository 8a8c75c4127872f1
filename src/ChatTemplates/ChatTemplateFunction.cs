namespace OrleansQuant.ChatTemplates;

/// <summary>A global callable (raise_exception, strftime_now, namespace, range); a value, so <c>is defined</c> works on it.</summary>
internal sealed class ChatTemplateFunction(string name, Func<ChatTemplateCall, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(ChatTemplateCall call) => invoke(call);
}

/// <summary>Evaluated arguments of a call, filter or method, with the offset and source to report misuse against.</summary>
internal sealed record ChatTemplateCall(ChatTemplateSource Source, int Offset, string Callee, IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Named)
{
    public ChatTemplateException Error(string message) => Source.Error(Offset, $"{Callee}: {message}");

    public object? Arg(int index, string name, object? fallback = null)
    {
        if (index < Positional.Count)
        {
            return Positional[index];
        }

        return Named.TryGetValue(name, out var value) ? value : fallback;
    }

    public bool Has(int index, string name) => index < Positional.Count || Named.ContainsKey(name);

    public string StringArg(int index, string name)
    {
        var value = Arg(index, name);
        return value as string ?? throw Error($"argument {name} is {ChatTemplateValues.TypeName(value)}; expected a string");
    }

    public long IntArg(int index, string name, long fallback)
    {
        var value = Arg(index, name, fallback);
        return value switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            _ => throw Error($"argument {name} is {ChatTemplateValues.TypeName(value)}; expected an integer"),
        };
    }
}
