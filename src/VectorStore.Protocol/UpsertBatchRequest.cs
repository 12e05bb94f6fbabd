using VectorStore.Collections;

namespace VectorStore.Protocol;

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
