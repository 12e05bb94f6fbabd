using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Protocol;

/// <summary>
/// Search and SearchBatch response: per query, its hits best first, with (version 4 on) the parts the search asked for
/// and (version 5 on) the compression generation that served it (<see cref="SearchHit.Generation"/>, the same for every
/// hit of a query, ≥ 1; 0 for a query without hits).
/// </summary>
/// <param name="Results">One hit list per query.</param>
/// <param name="Version">
/// Protocol version of the connection: from 4 on a hit carries its <see cref="SearchHit.Fields"/>,
/// <see cref="SearchHit.Payload"/> and <see cref="SearchHit.Vector"/> when present; an older client cannot have asked
/// for them, and they are not written.
/// </param>
public sealed record SearchResponse(SearchHit[][] Results, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    private const byte FieldsBit = SearchRequest.IncludeFieldsBit, PayloadBit = SearchRequest.IncludePayloadBit, VectorBit = SearchRequest.IncludeVectorBit;

    private static byte Parts(in SearchHit h) =>
        (byte)((h.Fields is not null ? FieldsBit : 0) | (h.Payload is not null ? PayloadBit : 0) | (h.Vector is not null ? VectorBit : 0));

    private static byte AllParts(SearchHit[][] results, ushort version)
    {
        if (version < 4) return 0;
        byte parts = 0;
        foreach (var hits in results)
            foreach (var h in hits) parts |= Parts(h);
        return parts;
    }

    /// <summary>Exact payload size for <paramref name="results"/>, in 64 bits so a caller can refuse an oversized one.</summary>
    public static long SizeOf(SearchHit[][] results, ushort version = ProtocolConstants.Version)
    {
        byte parts = AllParts(results, version);
        long size = version >= 4 ? 5 : 4;
        int perQuery = version >= ProtocolConstants.LifecycleVersion ? 8 : 4;
        foreach (var hits in results)
        {
            size += perQuery + 12L * hits.Length;
            if (parts == 0) continue;
            foreach (var h in hits)
            {
                size += 1;
                if (h.Fields is not null) size += FieldCodec.FieldSetSize(h.Fields);
                if (h.Payload is not null) size += 4 + h.Payload.Length;
                if (h.Vector is not null) size += 4 + 4L * h.Vector.Length;
            }
        }
        return size;
    }

    /// <inheritdoc />
    public int PayloadSize => checked((int)SizeOf(Results, Version));

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        byte parts = AllParts(Results, Version);
        w.U32((uint)Results.Length);
        if (Version >= 4) w.U8(parts);
        foreach (var hits in Results)
        {
            if (Version >= ProtocolConstants.LifecycleVersion) w.I32(hits.Length > 0 ? hits[0].Generation : 0);
            w.U32((uint)hits.Length);
            foreach (var h in hits)
            {
                w.U64(h.Id);
                w.F32(h.Score);
                if (parts == 0) continue;
                w.U8(Parts(h));
                if (h.Fields is not null) FieldCodec.WriteFieldSet(ref w, h.Fields);
                if (h.Payload is not null)
                {
                    w.U32((uint)h.Payload.Length);
                    w.Bytes(h.Payload);
                }
                if (h.Vector is not null)
                {
                    w.U32((uint)h.Vector.Length);
                    w.Floats(h.Vector);
                }
            }
        }
    }

    /// <summary>Decodes the layout of <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static SearchResponse Read(ReadOnlySpan<byte> payload, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        int nq = r.Count("query count", r.Remaining / 4);
        byte parts = 0;
        if (version >= 4)
        {
            parts = r.U8("hit parts");
            if ((parts & ~(FieldsBit | PayloadBit | VectorBit)) != 0) throw new ProtocolException(ErrorCode.BadPayload, $"unknown hit parts 0x{parts:X2}");
        }
        var results = new SearchHit[nq][];
        for (int q = 0; q < nq; q++)
        {
            int generation = 0;
            if (version >= ProtocolConstants.LifecycleVersion)
            {
                generation = r.I32("generation");
                if (generation < 0) throw new ProtocolException(ErrorCode.BadPayload, $"generation is negative ({generation})");
            }
            int n = r.Count("hit count", r.Remaining / 12);
            var hits = new SearchHit[n];
            for (int i = 0; i < n; i++)
            {
                var hit = new SearchHit(r.U64("id"), r.F32("score")) { Generation = generation };
                if (parts != 0) hit = ReadParts(ref r, hit, parts);
                hits[i] = hit;
            }
            results[q] = hits;
        }
        r.End();
        return new SearchResponse(results, version);
    }

    private static SearchHit ReadParts(ref WireReader r, SearchHit hit, byte parts)
    {
        byte present = r.U8("hit parts present");
        if ((present & ~parts) != 0) throw new ProtocolException(ErrorCode.BadPayload, $"a hit carries parts 0x{present:X2} outside the response's 0x{parts:X2}");
        IReadOnlyDictionary<string, FieldValue>? fields = (present & FieldsBit) != 0 ? FieldCodec.ReadFieldSet(ref r) : null;
        byte[]? payload = (present & PayloadBit) != 0 ? r.Bytes(r.U32("hit payload length"), "hit payload").ToArray() : null;
        float[]? vector = null;
        if ((present & VectorBit) != 0) vector = r.Floats(r.U32("hit vector dimension"), "hit vector").ToArray();
        return hit with { Fields = fields, Payload = payload, Vector = vector };
    }
}
