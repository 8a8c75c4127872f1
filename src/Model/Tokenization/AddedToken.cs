namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// One tokenizer.json added_tokens entry. Added tokens are matched verbatim in the input; only the
/// <paramref name="Special"/> ones are dropped when decoding with skipSpecialTokens.
/// </summary>
internal sealed record AddedToken(int Id, string Content, bool Special);
