using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Get response: per requested id, whether it was found and then its vector, payload and (version 4 on) field values.</summary>
/// <param name="Dimension">The collection's dimension.</param>
/// <param name="Records">One entry per requested id, null when absent.</param>
/// <param name="Version">Protocol version of the connection: from 4 on each found record carries its field set.</param>
public sealed record GetResponse(int Dimension, IReadOnlyList<VectorRecord?> Records, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <summary>Exact payload size, in 64 bits so a caller can refuse an oversized one.</summary>
    public static long SizeOf(int dimension, IReadOnlyList<VectorRecord?> records, ushort version = ProtocolConstants.Version)
    {
        long size = 8;
        foreach (var rec in records)
            size += 1 + (rec is null ? 0 : 4L * dimension + 4 + rec.Payload.Length + (version >= 4 ? FieldCodec.FieldSetSize(rec.Fields) : 0));
        return size;
    }

    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = SizeOf(Dimension, Records, Version);
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
            if (Version >= 4) FieldCodec.WriteFieldSet(ref w, rec.Fields);
        }
    }

    /// <summary>Decodes the layout of <paramref name="version"/> for ids <paramref name="ids"/> (the response does not repeat them).</summary>
    public static GetResponse Read(ReadOnlySpan<byte> payload, IReadOnlyList<ulong> ids, ushort version = ProtocolConstants.Version)
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
            var record = new VectorRecord(ids[i], v, r.Bytes(len, "payload").ToArray());
            records[i] = version >= 4 ? record with { Fields = FieldCodec.ReadFieldSet(ref r) } : record;
        }
        r.End();
        return new GetResponse(dim, records, version);
    }
}
