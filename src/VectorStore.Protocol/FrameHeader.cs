using System.Buffers;
using System.Buffers.Binary;

namespace VectorStore.Protocol;

/// <summary>The fixed 12-byte start of every frame (after which <see cref="PayloadLength"/> bytes follow).</summary>
/// <param name="Opcode">Raw opcode byte (may be unknown; the dispatcher decides).</param>
/// <param name="RequestId">Chosen by the client; echoed by the response.</param>
/// <param name="PayloadLength">Bytes of payload after the header.</param>
public readonly record struct FrameHeader(byte Opcode, uint RequestId, int PayloadLength)
{
    /// <summary>Writes a header for a payload of <paramref name="payloadLength"/> bytes into the first 12 bytes of <paramref name="dest"/>.</summary>
    public static void Write(Span<byte> dest, byte opcode, uint requestId, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)(payloadLength + ProtocolConstants.HeaderBodySize));
        dest[4] = opcode;
        dest[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], requestId);
    }
}
