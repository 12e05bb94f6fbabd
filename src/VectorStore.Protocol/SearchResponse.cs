using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Search and SearchBatch response: per query, its hits best first.</summary>
/// <param name="Results">One hit list per query.</param>
public sealed record SearchResponse(SearchHit[][] Results) : IWireMessage
{
    /// <summary>Exact payload size for <paramref name="results"/>, in 64 bits so a caller can refuse an oversized one.</summary>
    public static long SizeOf(SearchHit[][] results)
    {
        long size = 4;
        foreach (var hits in results) size += 4 + 12L * hits.Length;
        return size;
    }

    /// <inheritdoc />
    public int PayloadSize => checked((int)SizeOf(Results));

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Results.Length);
        foreach (var hits in Results)
        {
            w.U32((uint)hits.Length);
            foreach (var h in hits)
            {
                w.U64(h.Id);
                w.F32(h.Score);
            }
        }
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static SearchResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int nq = r.Count("query count", r.Remaining / 4);
        var results = new SearchHit[nq][];
        for (int q = 0; q < nq; q++)
        {
            int n = r.Count("hit count", r.Remaining / 12);
            var hits = new SearchHit[n];
            for (int i = 0; i < n; i++) hits[i] = new SearchHit(r.U64("id"), r.F32("score"));
            results[q] = hits;
        }
        r.End();
        return new SearchResponse(results);
    }
}
