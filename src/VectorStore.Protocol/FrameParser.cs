using System.Buffers;
using System.Buffers.Binary;

namespace VectorStore.Protocol;

/// <summary>
/// Splits a byte stream into frames. The one parser used by server, client and fuzz harness. Stateless and
/// thread-safe; it never allocates and never trusts the length prefix beyond <c>maxFrameBytes</c>.
/// </summary>
public static class FrameParser
{
    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On <see cref="FrameStatus.Complete"/>,
    /// <paramref name="payload"/> is the frame's payload and <paramref name="frameEnd"/> the position after it. A
    /// header that can never become valid (length below 8 or above <paramref name="maxFrameBytes"/>, non-zero flags
    /// or reserved bits) throws <see cref="ProtocolException"/> with <see cref="ErrorCode.BadFrame"/> or
    /// <see cref="ErrorCode.LimitExceeded"/> as soon as the 12 header bytes are present.
    /// </summary>
    /// <param name="buffer">Received bytes.</param>
    /// <param name="maxFrameBytes">Largest accepted value of the length prefix.</param>
    /// <param name="header">The decoded header when at least 12 bytes were present and valid.</param>
    /// <param name="payload">The payload of a complete frame.</param>
    /// <param name="frameEnd">Position just after a complete frame.</param>
    public static FrameStatus TryRead(in ReadOnlySequence<byte> buffer, int maxFrameBytes, out FrameHeader header,
        out ReadOnlySequence<byte> payload, out SequencePosition frameEnd)
    {
        payload = default;
        frameEnd = buffer.Start;
        header = default;
        if (buffer.Length < ProtocolConstants.HeaderSize) return FrameStatus.Incomplete;
        Span<byte> h = stackalloc byte[ProtocolConstants.HeaderSize];
        buffer.Slice(0, ProtocolConstants.HeaderSize).CopyTo(h);
        header = ParseHeader(h, maxFrameBytes);
        long total = ProtocolConstants.HeaderSize + (long)header.PayloadLength;
        if (buffer.Length < total) return FrameStatus.Incomplete;
        payload = buffer.Slice(ProtocolConstants.HeaderSize, header.PayloadLength);
        frameEnd = payload.End;
        return FrameStatus.Complete;
    }

    /// <summary>Validates and decodes a 12-byte header; throws <see cref="ProtocolException"/>.</summary>
    public static FrameHeader ParseHeader(ReadOnlySpan<byte> h, int maxFrameBytes)
    {
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(h);
        if (length < ProtocolConstants.HeaderBodySize)
            throw new ProtocolException(ErrorCode.BadFrame, $"frame length {length} is below the minimum {ProtocolConstants.HeaderBodySize}");
        if (length > (uint)maxFrameBytes)
            throw new ProtocolException(ErrorCode.LimitExceeded, $"frame length {length} exceeds the limit {maxFrameBytes}");
        if (h[5] != 0 || BinaryPrimitives.ReadUInt16LittleEndian(h[6..]) != 0)
            throw new ProtocolException(ErrorCode.BadFrame, "frame flags and reserved bits must be zero");
        return new FrameHeader(h[4], BinaryPrimitives.ReadUInt32LittleEndian(h[8..]), (int)length - ProtocolConstants.HeaderBodySize);
    }
}
