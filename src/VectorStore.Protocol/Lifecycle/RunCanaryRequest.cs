using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>
/// RunCanary (version 5): <c>i32 generation</c>, then exactly a SearchBatch request payload of the connection's version
/// (name, options, queries; <see cref="SearchRequest"/>), so the queries and options travel, and are checked, as a
/// search batch's. The response is a <see cref="CanaryResponse"/>.
/// </summary>
/// <param name="Generation">The candidate to compare with the live generation.</param>
/// <param name="Search">The collection, the options (k, rerank, ef, nprobe, filter) and the queries.</param>
public sealed record RunCanaryRequest(int Generation, SearchRequest Search) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => checked(4 + Search.PayloadSize);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.I32(Generation);
        Search.Write(ref w);
    }

    /// <summary>Decodes, checking the batch against <paramref name="limits"/> as SearchBatch does; throws <see cref="ProtocolException"/>.</summary>
    public static RunCanaryRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        int generation = LifecycleCodec.Generation(ref r);
        return new RunCanaryRequest(generation, SearchRequest.Read(payload[4..], limits, version));
    }
}
