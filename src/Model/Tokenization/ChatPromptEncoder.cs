using OrleansQuant.ChatTemplates;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// Token ids of a conversation as the model expects it: rendered with its chat template, or for a model without one
/// (a base model) as a neutral "role: content" transcript. A template that writes the BOS token itself does not get
/// a second one from the tokenizer.
/// </summary>
public sealed class ChatPromptEncoder
{
    private readonly ModelTokenizer _tokenizer;
    private readonly ChatTemplate? _template;
    private readonly string? _bos;
    private readonly string? _eos;

    public ChatPromptEncoder(ModelTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        _template = tokenizer.ChatTemplate is string text ? Checked(() => ChatTemplate.Parse(text, $"{ModelTokenizer.TokenizerConfigFile} chat_template")) : null;
        _bos = tokenizer.BosId is int bos ? tokenizer.DecodeToken(bos) : null;
        _eos = tokenizer.EosId is int eos ? tokenizer.DecodeToken(eos) : null;
    }

    public bool HasTemplate => _template is not null;

    /// <param name="addGenerationPrompt">end with the assistant's turn opened, for generation (not for calibration).</param>
    public IReadOnlyList<int> Encode(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        if (messages.Count == 0)
        {
            return [];
        }

        if (_template is null)
        {
            string transcript = string.Concat(messages.Select(m => $"{m.Role}: {m.Content}\n"));
            return _tokenizer.Encode(addGenerationPrompt ? transcript + "assistant:" : transcript);
        }

        string rendered = Checked(() => _template.Render(messages, addGenerationPrompt, _bos, _eos));
        bool hasBos = _bos is not null && rendered.StartsWith(_bos, StringComparison.Ordinal);
        return hasBos ? _tokenizer.Encode(rendered, addBos: false) : _tokenizer.Encode(rendered);
    }

    /// <summary>The interpreter's errors are this project's bad-input errors: same message, ModelFormatException's type.</summary>
    private static T Checked<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ChatTemplateException e)
        {
            throw new ModelFormatException(e.Source!, e.Detail, e);
        }
    }
}
