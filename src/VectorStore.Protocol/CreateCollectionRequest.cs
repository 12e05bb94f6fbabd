using VectorStore.Collections;

namespace VectorStore.Protocol;

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
