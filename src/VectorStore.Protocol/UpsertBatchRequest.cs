using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Protocol;

/// <summary>UpsertBatch: n ids, n vectors of one dimension, optional payloads, and (version 4 on) optional field values.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Ids">The ids.</param>
/// <param name="Vectors">One row per id.</param>
/// <param name="Payloads">One payload per id (null entries = none), or null for no payloads at all.</param>
/// <param name="Fields">One field set per id (null or empty entries = none), or null for none at all.</param>
/// <param name="Version">
/// Protocol version of the connection: field values need 4; an older connection refuses non-empty ones with
/// <see cref="InvalidArgumentException"/> rather than drop them.
/// </param>
public sealed record UpsertBatchRequest(string Name, IReadOnlyList<ulong> Ids, VectorMatrix Vectors, IReadOnlyList<byte[]?>? Payloads,
    IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? Fields = null, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <summary>Whether any record carries a field value.</summary>
    public bool HasFieldValues => Fields is not null && Fields.Any(f => f is { Count: > 0 });

    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            CheckShape();
            long size = WireWriter.StrSize(Name) + 4 + 4 + 1 + 8L * Ids.Count + 4L * Vectors.Data.Length;
            if (Payloads is not null)
                foreach (var p in Payloads) size += 4 + (p?.Length ?? 0);
            if (Version >= 4)
            {
                size += 1;
                if (Fields is not null)
                    foreach (var f in Fields) size += FieldCodec.FieldSetSize(f);
            }
            return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException($"upsert batch of {size} bytes is too large for one frame; split it");
        }
    }

    private void CheckShape()
    {
        if (Ids.Count != Vectors.Count) throw new InvalidArgumentException($"{Ids.Count} ids for {Vectors.Count} vectors");
        if (Payloads is not null && Payloads.Count != Ids.Count) throw new InvalidArgumentException($"{Payloads.Count} payloads for {Ids.Count} vectors");
        if (Fields is not null && Fields.Count != Ids.Count) throw new InvalidArgumentException($"{Fields.Count} field sets for {Ids.Count} vectors");
        if (Version < 4 && HasFieldValues)
            throw new InvalidArgumentException($"the server speaks protocol version {Version}, which cannot carry field values (version 4 can); upgrade the server");
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        CheckShape();
        w.Str(Name);
        w.U32((uint)Ids.Count);
        w.U32((uint)Vectors.Dimension);
        w.Bool(Payloads is not null);
        foreach (var id in Ids) w.U64(id);
        w.Floats(Vectors.Data);
        if (Payloads is not null)
        {
            foreach (var p in Payloads)
            {
                w.U32((uint)(p?.Length ?? 0));
                if (p is not null) w.Bytes(p);
            }
        }
        if (Version < 4) return;
        w.Bool(Fields is not null);
        if (Fields is null) return;
        foreach (var f in Fields) FieldCodec.WriteFieldSet(ref w, f);
    }

    /// <summary>Decodes the layout of <paramref name="version"/>, checking counts against <paramref name="limits"/> before allocating.</summary>
    public static UpsertBatchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits, ushort version = ProtocolConstants.Version)
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
        IReadOnlyDictionary<string, FieldValue>?[]? fields = null;
        if (version >= 4 && r.Bool("hasFields"))
        {
            // Every field set is at least its 2-byte count: refuse a batch the remaining bytes cannot hold.
            if (n > r.Remaining / 2) throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {n} field sets need at least {2L * n} bytes, {r.Remaining} left");
            fields = new IReadOnlyDictionary<string, FieldValue>?[n];
            for (int i = 0; i < n; i++) fields[i] = FieldCodec.ReadFieldSet(ref r);
        }
        r.End();
        return new UpsertBatchRequest(name, ids, new VectorMatrix(data, dim), payloads, fields, version);
    }
}
