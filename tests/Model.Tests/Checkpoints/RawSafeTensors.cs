using System.Buffers.Binary;
using System.Text;

namespace OrleansQuant.Model.Tests.Checkpoints;

/// <summary>Writes safetensors files byte by byte, so tests can build files that no correct writer would produce.</summary>
internal static class RawSafeTensors
{
    public static void Write(string path, string headerJson, int dataBytes, ulong? declaredHeaderLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++)
        {
            bytes[8 + header.Length + i] = (byte)i;
        }

        File.WriteAllBytes(path, bytes);
    }
}
