using System.Buffers;

namespace VectorStore.Protocol;

/// <summary>Writes whole frames (header and payload) into a buffer writer in one pass. Stateless and thread-safe.</summary>
public static class FrameWriter
{
    /// <summary>Writes one frame; returns its total size in bytes.</summary>
    /// <param name="output">Destination, for example a connection's <c>PipeWriter</c>.</param>
    /// <param name="opcode">Opcode byte (with <see cref="ProtocolConstants.ResponseBit"/> for responses).</param>
    /// <param name="requestId">Request id to carry.</param>
    /// <param name="message">The payload.</param>
    public static int Write(IBufferWriter<byte> output, byte opcode, uint requestId, IWireMessage message)
    {
        int size = message.PayloadSize;
        int total = ProtocolConstants.HeaderSize + size;
        var span = output.GetSpan(total)[..total];
        FrameHeader.Write(span, opcode, requestId, size);
        var w = new WireWriter(span[ProtocolConstants.HeaderSize..]);
        message.Write(ref w);
        // A mismatch means a message's PayloadSize disagrees with its Write: a bug that would desynchronise the stream.
        if (w.Written != size) throw new InvalidOperationException($"{message.GetType().Name} wrote {w.Written} bytes, announced {size}");
        output.Advance(total);
        return total;
    }
}
