using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>A model a request named, loaded, with what its tokenizer says about prompt limits.</summary>
internal sealed record ServedModel(string Name, IModelGrain Grain, TokenizerInfo Info)
{
    /// <summary>Refuses ids the vocabulary lacks, and a prompt that leaves no room for <paramref name="maxTokens"/> (vLLM's message).</summary>
    public void CheckPrompt(int[] ids, int maxTokens, string field)
    {
        CheckIds(ids, field);
        if (ids.Length + maxTokens > Info.ModelMaxLength)
        {
            throw OpenAiException.BadRequest(field,
                $"This model's maximum context length is {Info.ModelMaxLength} tokens. However, you requested {ids.Length + maxTokens} tokens " +
                $"({ids.Length} in the prompt, {maxTokens} in the completion). Please reduce the length of the prompt or completion.");
        }
    }

    public void CheckIds(int[] ids, string field)
    {
        int bad = Array.FindIndex(ids, id => id >= Info.VocabSize);
        if (bad >= 0)
        {
            throw OpenAiException.BadRequest(field, $"{field}[{bad}] is token id {ids[bad]}; expected ids in [0, {Info.VocabSize})");
        }
    }
}
