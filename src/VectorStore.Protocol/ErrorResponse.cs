using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Error frame payload: code and a human-readable message.</summary>
/// <param name="Code">What went wrong.</param>
/// <param name="Message">Details for the user (truncated to the string limit).</param>
public sealed record ErrorResponse(ErrorCode Code, string Message) : IWireMessage
{
    private readonly string _message = Truncate(Message);

    /// <inheritdoc />
    public int PayloadSize => 2 + WireWriter.StrSize(_message);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U16((ushort)Code);
        w.Str(_message);
    }

    private static string Truncate(string s) => s.Length > 1000 ? s[..1000] : s;

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static ErrorResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var code = (ErrorCode)r.U16("code");
        var message = r.Str("message");
        r.End();
        return new ErrorResponse(code, message);
    }
}
