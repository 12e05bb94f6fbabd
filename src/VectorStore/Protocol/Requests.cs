using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>A message body that knows its exact encoded size, so frames are written in one pass.</summary>
public interface IWireMessage
{
    /// <summary>Payload bytes.</summary>
    int PayloadSize { get; }

    /// <summary>Writes exactly <see cref="PayloadSize"/> bytes.</summary>
    void Write(ref WireWriter w);
}

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

/// <summary>A payload that is only a collection name (DropCollection, Info, BuildIndex).</summary>
/// <param name="Name">Collection name.</param>
public sealed record NameRequest(string Name) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name);

    /// <inheritdoc />
    public void Write(ref WireWriter w) => w.Str(Name);

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static NameRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        r.End();
        return new NameRequest(name);
    }
}

/// <summary>CreateCollection: name and every <see cref="CollectionOptions"/> field.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Options">Its options.</param>
public sealed record CreateCollectionRequest(string Name, CollectionOptions Options) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + OptionsSize(Options);

    internal static int OptionsSize(CollectionOptions o) => 4 + 1 + WireWriter.StrSize(o.Compression) + WireWriter.StrSize(o.Index) + 12;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        WriteOptions(ref w, Options);
    }

    internal static void WriteOptions(ref WireWriter w, CollectionOptions o)
    {
        w.I32(o.Dimension);
        w.U8((byte)o.Metric);
        w.Str(o.Compression);
        w.Str(o.Index);
        w.I32(o.TrainingThreshold);
        w.I32(o.MaxTrainingSample);
        w.I32(o.Seed);
    }

    internal static CollectionOptions ReadOptions(ref WireReader r)
    {
        int dim = r.I32("dimension");
        byte metric = r.U8("metric");
        if (metric > (byte)Metric.Cosine) throw new ProtocolException(ErrorCode.BadPayload, $"unknown metric {metric}");
        return new CollectionOptions
        {
            Dimension = dim,
            Metric = (Metric)metric,
            Compression = r.Str("compression"),
            Index = r.Str("index"),
            TrainingThreshold = r.I32("trainingThreshold"),
            MaxTrainingSample = r.I32("maxTrainingSample"),
            Seed = r.I32("seed"),
        };
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static CreateCollectionRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        var options = ReadOptions(ref r);
        r.End();
        return new CreateCollectionRequest(name, options);
    }
}

/// <summary>UpsertBatch: n ids, n vectors of one dimension, optional payloads.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Ids">The ids.</param>
/// <param name="Vectors">One row per id.</param>
/// <param name="Payloads">One payload per id (null entries = none), or null for no payloads at all.</param>
public sealed record UpsertBatchRequest(string Name, IReadOnlyList<ulong> Ids, VectorMatrix Vectors, IReadOnlyList<byte[]?>? Payloads) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = WireWriter.StrSize(Name) + 4 + 4 + 1 + 8L * Ids.Count + 4L * Vectors.Data.Length;
            if (Payloads is not null)
                foreach (var p in Payloads) size += 4 + (p?.Length ?? 0);
            return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException($"upsert batch of {size} bytes is too large for one frame; split it");
        }
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Ids.Count != Vectors.Count) throw new InvalidArgumentException($"{Ids.Count} ids for {Vectors.Count} vectors");
        if (Payloads is not null && Payloads.Count != Ids.Count) throw new InvalidArgumentException($"{Payloads.Count} payloads for {Ids.Count} vectors");
        w.Str(Name);
        w.U32((uint)Ids.Count);
        w.U32((uint)Vectors.Dimension);
        w.Bool(Payloads is not null);
        foreach (var id in Ids) w.U64(id);
        w.Floats(Vectors.Data);
        if (Payloads is null) return;
        foreach (var p in Payloads)
        {
            w.U32((uint)(p?.Length ?? 0));
            if (p is not null) w.Bytes(p);
        }
    }

    /// <summary>Decodes, checking counts against <paramref name="limits"/> before allocating.</summary>
    public static UpsertBatchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int n = r.Count("batch size", limits.MaxBatch);
        int dim = r.Count("dimension", limits.MaxDimension);
        if (dim == 0) throw new ProtocolException(ErrorCode.InvalidVector, "dimension must be positive");
        bool hasPayloads = r.Bool("hasPayloads");
        var ids = r.U64s(n, "ids").ToArray();
        var data = r.Floats((long)n * dim, "vectors").ToArray();
        byte[]?[]? payloads = null;
        if (hasPayloads)
        {
            payloads = new byte[]?[n];
            for (int i = 0; i < n; i++)
            {
                uint len = r.U32("payload length");
                payloads[i] = len == 0 ? null : r.Bytes(len, "payload").ToArray();
            }
        }
        r.End();
        return new UpsertBatchRequest(name, ids, new VectorMatrix(data, dim), payloads);
    }
}

/// <summary>Delete or Get: a collection and a batch of ids.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Ids">The ids.</param>
public sealed record IdBatchRequest(string Name, IReadOnlyList<ulong> Ids) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 8 * Ids.Count;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.U32((uint)Ids.Count);
        foreach (var id in Ids) w.U64(id);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static IdBatchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int n = r.Count("id count", limits.MaxBatch);
        var ids = r.U64s(n, "ids").ToArray();
        r.End();
        return new IdBatchRequest(name, ids);
    }
}

/// <summary>ListIds: ids strictly greater than <see cref="After"/> (or from the start), at most <see cref="Limit"/>.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="After">Exclusive lower bound, or null to start at the smallest id.</param>
/// <param name="Limit">Most ids to return (1..MaxBatch).</param>
public sealed record ListIdsRequest(string Name, ulong? After, int Limit) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 1 + 8 + 4;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.Bool(After.HasValue);
        w.U64(After ?? 0);
        w.U32((uint)Limit);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static ListIdsRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        bool hasAfter = r.Bool("hasAfter");
        ulong after = r.U64("after");
        int limit = r.Count("limit", limits.MaxBatch);
        r.End();
        if (limit == 0) throw new ProtocolException(ErrorCode.InvalidArgument, "limit must be positive");
        return new ListIdsRequest(name, hasAfter ? after : null, limit);
    }
}
