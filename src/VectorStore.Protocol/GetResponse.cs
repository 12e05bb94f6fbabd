using VectorStore.Collections;

namespace VectorStore.Protocol;

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
