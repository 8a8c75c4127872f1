namespace OrleansQuant.Model.Tests.Tokenization;

/// <summary>
/// A Llama-2-shaped SentencePiece BPE model small enough to reason about by hand: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;,
/// the 256 byte-fallback pieces, then merges for "▁hello" and "▁world" scored so that they apply in order,
/// then single characters. Field numbers follow sentencepiece_model.proto.
/// </summary>
public static class TestSentencePieceModel
{
    public const int Unk = 0;
    public const int Bos = 1;
    public const int Eos = 2;
    public const int FirstByte = 3;

    // Piece types (SentencePiece.Type).
    private const int Normal = 1;
    private const int Unknown = 2;
    private const int Control = 3;
    private const int Byte = 6;

    /// <summary>Normal pieces after the bytes, with ids 259 onward; higher score merges first.</summary>
    public static readonly string[] NormalPieces =
    [
        "he", "ll", "llo", "hello", "▁hello", "▁w", "or", "▁wor", "ld", "▁world",
        "▁", "h", "e", "l", "o", "w", "r", "d", "a",
    ];

    public static int Id(string piece) => FirstByte + 256 + Array.IndexOf(NormalPieces, piece);

    public static byte[] Build()
    {
        var model = new ProtobufWriter();
        model.Message(1, Piece("<unk>", 0, Unknown));
        model.Message(1, Piece("<s>", 0, Control));
        model.Message(1, Piece("</s>", 0, Control));
        for (int b = 0; b < 256; b++)
        {
            model.Message(1, Piece($"<0x{b:X2}>", 0, Byte));
        }

        for (int i = 0; i < NormalPieces.Length; i++)
        {
            model.Message(1, Piece(NormalPieces[i], -(i + 1), Normal));
        }

        var trainer = new ProtobufWriter()
            .Varint(3, 2) // model_type = BPE
            .Varint(4, FirstByte + 256 + NormalPieces.Length) // vocab_size
            .Bool(35, true) // byte_fallback
            .Varint(40, Unk)
            .Varint(41, Bos)
            .Varint(42, Eos)
            .Varint(43, -1); // pad_id: none, as in Llama 2
        model.Message(2, trainer);

        var normalizer = new ProtobufWriter()
            .String(1, "identity")
            .Bool(3, true) // add_dummy_prefix
            .Bool(4, false) // remove_extra_whitespaces, false in Llama 2
            .Bool(5, true); // escape_whitespaces
        model.Message(3, normalizer);
        return model.ToArray();
    }

    private static ProtobufWriter Piece(string text, float score, int type) =>
        new ProtobufWriter().String(1, text).Float(2, score).Varint(3, type);
}
