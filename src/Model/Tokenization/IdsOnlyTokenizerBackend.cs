using System.Text;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// The "tokenizer" of a model that has none (a synthetic model): it cannot turn text into ids, and says so naming the
/// model and what works instead; ids are shown as <c>&lt;id&gt;</c>, so ids-only generation still prints something.
/// </summary>
internal sealed class IdsOnlyTokenizerBackend(string model, int vocabSize) : ITokenizerBackend
{
    public int VocabSize => vocabSize;

    public string? DefaultBosToken => null;

    public string? DefaultEosToken => null;

    public bool DefaultAddBos => false;

    public bool DefaultAddEos => false;

    public bool TryGetId(string token, out int id)
    {
        id = -1;
        return false;
    }

    // An ArgumentException: asking a model without a vocabulary for text is the caller's input to fix, not a failure.
    public List<int> Encode(string text) => throw new ArgumentException(
        $"{model} has no tokenizer, so text cannot be turned into token ids; give token ids instead (--prompt-ids, PromptIds) " +
        "and calibrate with --calibration self");

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens) => string.Concat(ids.Select(Text));

    public byte[] TokenBytes(int id) => Encoding.ASCII.GetBytes(Text(id));

    private static string Text(int id) => $"<{id}>";
}
