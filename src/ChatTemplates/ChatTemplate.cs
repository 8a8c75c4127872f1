namespace OrleansQuant.ChatTemplates;

/// <summary>
/// A Hugging Face <c>chat_template</c> (tokenizer_config.json), parsed once and rendered per conversation the way
/// transformers' <c>apply_chat_template</c> does: Jinja2 with trim_blocks and lstrip_blocks, the subset of the
/// language that the Llama 2/3, Mistral and Qwen2 templates use. Rendering is sandboxed: no I/O, no mutation
/// other than namespace() attributes, bounded output and loop counts. Immutable and thread-safe once parsed.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>
    /// What <c>date_string</c> holds: the default the Llama 3.1 template falls back to. It is a constant rather than
    /// today's date so that a calibration set renders to the same tokens on every run.
    /// </summary>
    public const string DefaultDateString = "26 Jul 2024";

    private readonly ChatTemplateSource _source;
    private readonly IReadOnlyList<ChatTemplateNode> _nodes;

    private ChatTemplate(ChatTemplateSource source, IReadOnlyList<ChatTemplateNode> nodes)
    {
        _source = source;
        _nodes = nodes;
    }

    /// <summary>The template text as given.</summary>
    public string Text => _source.Text;

    /// <param name="template">The Jinja text.</param>
    /// <param name="source">Where it came from (a file path), named by every error.</param>
    /// <exception cref="ChatTemplateException">A syntax error, unknown tag, filter or test, with its line:column.</exception>
    public static ChatTemplate Parse(string template, string source)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(source);
        var text = new ChatTemplateSource(template, source);
        return new ChatTemplate(text, ChatTemplateParser.Parse(text));
    }

    /// <summary>
    /// The prompt text for <paramref name="messages"/>. A null <paramref name="bosToken"/> or
    /// <paramref name="eosToken"/> is undefined in the template (renders as ""), as for a model without that token.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template called raise_exception (its message is kept) or failed at run time.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string? bosToken, string? eosToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var conversation = messages
            .Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = m.Role, ["content"] = m.Content })
            .ToList();

        var globals = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = conversation,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = null,
            ["documents"] = null,
            ["date_string"] = DefaultDateString,
            ["raise_exception"] = new ChatTemplateFunction("raise_exception", RaiseException),
            ["strftime_now"] = new ChatTemplateFunction("strftime_now", c => ChatTemplateStrftime.Format(DateTime.Now, c.StringArg(0, "format"), c)),
            ["namespace"] = new ChatTemplateFunction("namespace", MakeNamespace),
            ["range"] = new ChatTemplateFunction("range", Range),
        };
        if (bosToken is not null)
        {
            globals["bos_token"] = bosToken;
        }

        if (eosToken is not null)
        {
            globals["eos_token"] = eosToken;
        }

        return new ChatTemplateRenderer(_source, globals).Render(_nodes);
    }

    /// <summary>The template's own message, unchanged, so a user sees e.g. Mistral's role-alternation rule verbatim.</summary>
    private object? RaiseException(ChatTemplateCall call) =>
        throw new ChatTemplateException(_source.Source, ChatTemplateValues.ToText(call.Arg(0, "message")));

    private static object? MakeNamespace(ChatTemplateCall call)
    {
        var ns = new ChatTemplateNamespace();
        foreach (var initial in call.Positional)
        {
            if (initial is not Dictionary<string, object?> dict)
            {
                throw call.Error($"argument is {ChatTemplateValues.TypeName(initial)}; expected a mapping or name=value arguments");
            }

            foreach (var (k, v) in dict)
            {
                ns.Attributes[k] = v;
            }
        }

        foreach (var (k, v) in call.Named)
        {
            ns.Attributes[k] = v;
        }

        return ns;
    }

    private static object? Range(ChatTemplateCall call)
    {
        long start = call.Positional.Count > 1 ? call.IntArg(0, "start", 0) : 0;
        long stop = call.Positional.Count > 1 ? call.IntArg(1, "stop", 0) : call.IntArg(0, "stop", 0);
        long step = call.IntArg(2, "step", 1);
        if (step == 0)
        {
            throw call.Error("step is 0; expected a non-zero integer");
        }

        const long MaxItems = 100_000;
        var items = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= MaxItems)
            {
                throw call.Error($"more than {MaxItems} items; expected a small range");
            }

            items.Add(i);
        }

        return items;
    }
}
