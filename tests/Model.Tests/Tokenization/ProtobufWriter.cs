using System.Buffers.Binary;
using System.Text;

namespace OrleansQuant.Model.Tests.Tokenization;

/// <summary>
/// Just enough of the protobuf wire format to hand-build a SentencePiece ModelProto in tests, so the
/// SentencePiece path is checked against a file whose every field is known, without shipping a binary asset.
/// </summary>
public sealed class ProtobufWriter
{
    private readonly MemoryStream _buffer = new();

    public ProtobufWriter Varint(int field, long value)
    {
        Tag(field, wireType: 0);
        WriteVarint((ulong)value);
        return this;
    }

    public ProtobufWriter Bool(int field, bool value) => Varint(field, value ? 1 : 0);

    public ProtobufWriter Float(int field, float value)
    {
        Tag(field, wireType: 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
        return this;
    }

    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtobufWriter Message(int field, ProtobufWriter message) => Bytes(field, message.ToArray());

    public ProtobufWriter Bytes(int field, byte[] value)
    {
        Tag(field, wireType: 2);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    public byte[] ToArray() => _buffer.ToArray();

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _buffer.WriteByte((byte)value);
    }
}
