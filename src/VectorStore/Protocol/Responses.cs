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

/// <summary>Hello response: the version chosen and the server's limits.</summary>
/// <param name="Version">Protocol version of the connection.</param>
/// <param name="Limits">Limits the server enforces.</param>
public sealed record HelloResponse(ushort Version, ProtocolLimits Limits) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 2 + ProtocolLimits.WireSize;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U16(Version);
        Limits.Write(ref w);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static HelloResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var v = r.U16("version");
        var limits = ProtocolLimits.Read(ref r);
        r.End();
        return new HelloResponse(v, limits);
    }
}

/// <summary>A list of booleans (DropCollection: one; Delete: one per id).</summary>
/// <param name="Values">The values.</param>
public sealed record BoolsResponse(bool[] Values) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + Values.Length;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Values.Length);
        foreach (var v in Values) w.Bool(v);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static BoolsResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int n = r.Count("count", int.MaxValue);
        var values = new bool[Math.Min(n, r.Remaining)];
        if (values.Length != n) throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {n} booleans announced, {r.Remaining} bytes left");
        for (int i = 0; i < n; i++) values[i] = r.Bool("value");
        r.End();
        return new BoolsResponse(values);
    }
}

/// <summary>ListCollections response.</summary>
/// <param name="Names">Collection names, sorted.</param>
public sealed record NamesResponse(IReadOnlyList<string> Names) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + Names.Sum(WireWriter.StrSize);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Names.Count);
        foreach (var n in Names) w.Str(n);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static NamesResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        // Each name needs at least its 2-byte length, which bounds the list before allocating.
        int n = r.Count("name count", r.Remaining / 2);
        var names = new string[n];
        for (int i = 0; i < n; i++) names[i] = r.Str("name");
        r.End();
        return new NamesResponse(names);
    }
}

/// <summary>Info response: a collection's options and statistics.</summary>
/// <param name="Options">Options chosen at creation.</param>
/// <param name="Stats">Current sizes and state.</param>
public sealed record InfoResponse(CollectionOptions Options, CollectionStats Stats) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => CreateCollectionRequest.OptionsSize(Options) + 4 + 4 + 1 + 4 + 8 + 8 + WireWriter.StrSize(Stats.Compression) + WireWriter.StrSize(Stats.Index);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        CreateCollectionRequest.WriteOptions(ref w, Options);
        w.I32(Stats.Count);
        w.I32(Stats.Dimension);
        w.Bool(Stats.Trained);
        w.I32(Stats.CodeSize);
        w.I64(Stats.IndexBytes);
        w.I64(Stats.RerankBytes);
        w.Str(Stats.Compression);
        w.Str(Stats.Index);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static InfoResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var options = CreateCollectionRequest.ReadOptions(ref r);
        var stats = new CollectionStats
        {
            Count = r.I32("count"),
            Dimension = r.I32("dimension"),
            Trained = r.Bool("trained"),
            CodeSize = r.I32("codeSize"),
            IndexBytes = r.I64("indexBytes"),
            RerankBytes = r.I64("rerankBytes"),
            Compression = r.Str("compression"),
            Index = r.Str("index"),
        };
        r.End();
        return new InfoResponse(options, stats);
    }
}

/// <summary>Get response: per requested id, whether it was found and then its vector and payload.</summary>
/// <param name="Dimension">The collection's dimension.</param>
/// <param name="Records">One entry per requested id, null when absent.</param>
public sealed record GetResponse(int Dimension, IReadOnlyList<VectorRecord?> Records) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = 8;
            foreach (var rec in Records) size += 1 + (rec is null ? 0 : 4L * Dimension + 4 + rec.Payload.Length);
            return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException("get response too large");
        }
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Dimension);
        w.U32((uint)Records.Count);
        foreach (var rec in Records)
        {
            w.Bool(rec is not null);
            if (rec is null) continue;
            w.Floats(rec.Vector);
            w.U32((uint)rec.Payload.Length);
            w.Bytes(rec.Payload);
        }
    }

    /// <summary>Decodes for ids <paramref name="ids"/> (the response does not repeat them).</summary>
    public static GetResponse Read(ReadOnlySpan<byte> payload, IReadOnlyList<ulong> ids)
    {
        var r = new WireReader(payload);
        int dim = r.Count("dimension", int.MaxValue / 4);
        int n = r.Count("record count", r.Remaining);
        if (n != ids.Count) throw new ProtocolException(ErrorCode.BadPayload, $"{n} records for {ids.Count} requested ids");
        var records = new VectorRecord?[n];
        for (int i = 0; i < n; i++)
        {
            if (!r.Bool("found")) continue;
            var v = r.Floats(dim, "vector").ToArray();
            uint len = r.U32("payload length");
            records[i] = new VectorRecord(ids[i], v, r.Bytes(len, "payload").ToArray());
        }
        r.End();
        return new GetResponse(dim, records);
    }
}

/// <summary>ListIds response: ascending ids and whether more follow.</summary>
/// <param name="Ids">The page of ids.</param>
/// <param name="More">True when ids beyond the last one exist.</param>
public sealed record IdsResponse(ulong[] Ids, bool More) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + 8 * Ids.Length + 1;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Ids.Length);
        w.U64s(Ids);
        w.Bool(More);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static IdsResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int n = r.Count("id count", int.MaxValue);
        var ids = r.U64s(n, "ids").ToArray();
        bool more = r.Bool("more");
        r.End();
        return new IdsResponse(ids, more);
    }
}

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
