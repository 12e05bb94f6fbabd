using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>CreateCollection: name and every <see cref="CollectionOptions"/> field.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Options">Its options.</param>
/// <param name="Version">
/// Protocol version of the connection: from 3 on the options carry <see cref="CollectionOptions.RawVectors"/>
/// (an older layout cannot, and <see cref="Write"/> refuses a non-default value rather than drop it); from 4 on they
/// carry <see cref="CollectionOptions.Fields"/> (declaring fields over an older connection is refused with
/// <see cref="InvalidArgumentException"/>).
/// </param>
public sealed record CreateCollectionRequest(string Name, CollectionOptions Options, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + OptionsSize(Options, Version);

    internal static int OptionsSize(CollectionOptions o, ushort version)
    {
        RequireFieldsFit(o, version);
        return 4 + 1 + WireWriter.StrSize(o.Compression) + WireWriter.StrSize(o.Index) + 12 + (version >= 3 ? 1 : 0)
            + (version >= 4 ? FieldCodec.DefinitionsSize(o.Fields) + WireWriter.StrSize(o.Refine ?? "") : 0);
    }

    private static void RequireFieldsFit(CollectionOptions o, ushort version)
    {
        if (version < 4 && o.Fields is { Count: > 0 })
            throw new InvalidArgumentException($"the server speaks protocol version {version}, which cannot declare fields (version 4 can); upgrade the server");
        if (version < 4 && o.Refine is not null)
            throw new InvalidArgumentException($"the server speaks protocol version {version}, which cannot declare a refine stage (version 4 can); upgrade the server");
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        WriteOptions(ref w, Options, Version);
    }

    internal static void WriteOptions(ref WireWriter w, CollectionOptions o, ushort version)
    {
        w.I32(o.Dimension);
        w.U8((byte)o.Metric);
        w.Str(o.Compression);
        w.Str(o.Index);
        w.I32(o.TrainingThreshold);
        w.I32(o.MaxTrainingSample);
        w.I32(o.Seed);
        if (version >= 3) w.U8((byte)(o.RawVectors is { } rv ? (int)rv : 0));
        else if (o.RawVectors is not null)
            throw new ProtocolException(ErrorCode.NotSupported, $"protocol version {version} cannot carry the raw-vectors option; the server is older than this client");
        RequireFieldsFit(o, version);
        if (version >= 4)
        {
            FieldCodec.WriteDefinitions(ref w, o.Fields);
            w.Str(o.Refine ?? "");
        }
    }

    internal static CollectionOptions ReadOptions(ref WireReader r, ushort version)
    {
        int dim = r.I32("dimension");
        byte metric = r.U8("metric");
        if (metric > (byte)Metric.Cosine) throw new ProtocolException(ErrorCode.BadPayload, $"unknown metric {metric}");
        var options = new CollectionOptions
        {
            Dimension = dim,
            Metric = (Metric)metric,
            Compression = r.Str("compression"),
            Index = r.Str("index"),
            TrainingThreshold = r.I32("trainingThreshold"),
            MaxTrainingSample = r.I32("maxTrainingSample"),
            Seed = r.I32("seed"),
            RawVectors = version < 3 ? null : r.U8("rawVectors") switch
            {
                0 => null,
                1 => RawVectorResidency.Disk,
                2 => RawVectorResidency.Ram,
                var b => throw new ProtocolException(ErrorCode.BadPayload, $"unknown raw-vectors value {b}"),
            },
        };
        if (version < 4) return options;
        options = options with { Fields = FieldCodec.ReadDefinitions(ref r) };
        string refine = r.Str("refine");
        return refine.Length == 0 ? options : options with { Refine = refine };
    }

    /// <summary>Decodes the layout of protocol <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static CreateCollectionRequest Read(ReadOnlySpan<byte> payload, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        var options = ReadOptions(ref r, version);
        r.End();
        return new CreateCollectionRequest(name, options, version);
    }
}
