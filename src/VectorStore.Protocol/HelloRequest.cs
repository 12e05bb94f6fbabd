using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Hello: magic, version, auth token (may be empty).</summary>
/// <param name="Version">Protocol version the client speaks.</param>
/// <param name="Token">Auth token bytes; empty when the client has none.</param>
public sealed record HelloRequest(ushort Version, byte[] Token) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + 2 + 2 + Token.Length;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32(ProtocolConstants.Magic);
        w.U16(Version);
        w.U16((ushort)Token.Length);
        w.Bytes(Token);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static HelloRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        uint magic = r.U32("magic");
        if (magic != ProtocolConstants.Magic) throw new ProtocolException(ErrorCode.BadFrame, $"bad handshake magic 0x{magic:X8}");
        ushort version = r.U16("version");
        int n = r.U16("tokenLength");
        if (n > ProtocolConstants.MaxTokenBytes) throw new ProtocolException(ErrorCode.LimitExceeded, $"token of {n} bytes exceeds {ProtocolConstants.MaxTokenBytes}");
        var token = r.Bytes(n, "token").ToArray();
        r.End();
        return new HelloRequest(version, token);
    }
}
