using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>A response with no payload (Ping, CreateCollection, UpsertBatch, BuildIndex, Flush, Snapshot).</summary>
public sealed class EmptyResponse : IWireMessage
{
    /// <summary>The single instance.</summary>
    public static readonly EmptyResponse Instance = new();

    /// <inheritdoc />
    public int PayloadSize => 0;

    /// <inheritdoc />
    public void Write(ref WireWriter w) { }

    /// <summary>Checks that the payload is empty.</summary>
    public static void Read(ReadOnlySpan<byte> payload) => new WireReader(payload).End();
}
