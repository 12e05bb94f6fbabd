using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Info response: a collection's options and statistics, and (protocol version 2 on) its bytes on disk.</summary>
/// <param name="Options">Options chosen at creation.</param>
/// <param name="Stats">Current sizes and state.</param>
/// <param name="BytesOnDisk">
/// Bytes of the collection's files (0 for an in-memory database); null when the connection speaks version 1, whose
/// layout has no such field (it is then not written, and not read).
/// </param>
/// <param name="Version">
/// Protocol version of the connection: from 3 on the options carry the raw-vectors residency and
/// <see cref="CollectionStats.ResidentBytes"/> follows <paramref name="BytesOnDisk"/>; from 4 on they carry the
/// declared fields; from 5 on the stats end with the live generation and the training error
/// (below 5 <see cref="CollectionStats.Generation"/> reads as 1: a server without generations has only the one it
/// created the collection with). Default 2 (the layout
/// before residency was reported); the server and client always pass their connection's version.
/// </param>
public sealed record InfoResponse(CollectionOptions Options, CollectionStats Stats, long? BytesOnDisk, ushort Version = 2) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => CreateCollectionRequest.OptionsSize(WireOptions, Version) + 4 + 4 + 1 + 4 + 8 + 8 + WireWriter.StrSize(Stats.Compression) + WireWriter.StrSize(Stats.Index)
        + (BytesOnDisk is null ? 0 : 8) + (Version >= 3 ? 8 : 0)
        + (Version >= ProtocolConstants.LifecycleVersion ? 4 + WireWriter.StrSize(TrainingErrorText) : 0);

    /// <summary>The training error as sent: clipped to the string limit, empty for none.</summary>
    private string TrainingErrorText => LifecycleCodec.Clip(Stats.TrainingError ?? "");

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        CreateCollectionRequest.WriteOptions(ref w, WireOptions, Version);
        w.I32(Stats.Count);
        w.I32(Stats.Dimension);
        w.Bool(Stats.Trained);
        w.I32(Stats.CodeSize);
        w.I64(Stats.IndexBytes);
        w.I64(Stats.RerankBytes);
        w.Str(Stats.Compression);
        w.Str(Stats.Index);
        if (BytesOnDisk is long bytes) w.I64(bytes);
        if (Version >= 3) w.I64(Stats.ResidentBytes);
        if (Version >= ProtocolConstants.LifecycleVersion)
        {
            w.I32(Stats.Generation);
            w.Str(TrainingErrorText);
        }
    }

    /// <summary>
    /// The options as this version's layout carries them: a client of an older version cannot know the raw-vectors
    /// residency (before 3) or the declared fields (before 4), so they are left out rather than refused.
    /// </summary>
    private CollectionOptions WireOptions => Options with
    {
        RawVectors = Version >= 3 ? Options.RawVectors : null,
        Fields = Version >= 4 ? Options.Fields : null,
    };

    /// <summary>Decodes the layout of protocol <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static InfoResponse Read(ReadOnlySpan<byte> payload, ushort version = 2)
    {
        var r = new WireReader(payload);
        var options = CreateCollectionRequest.ReadOptions(ref r, version);
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
        long? bytesOnDisk = null;
        if (version >= 2)
        {
            long b = r.I64("bytesOnDisk");
            if (b < 0) throw new ProtocolException(ErrorCode.BadPayload, $"bytesOnDisk is negative ({b})");
            bytesOnDisk = b;
        }
        if (version >= 3)
        {
            long resident = r.I64("residentBytes");
            if (resident < 0) throw new ProtocolException(ErrorCode.BadPayload, $"residentBytes is negative ({resident})");
            stats = stats with { ResidentBytes = resident, DiskBytes = bytesOnDisk ?? 0, RawVectors = options.RawVectors ?? RawVectorResidency.Ram };
        }
        if (version >= ProtocolConstants.LifecycleVersion)
        {
            int generation = r.I32("generation");
            if (generation < 1) throw new ProtocolException(ErrorCode.BadPayload, $"live generation must be positive, got {generation}");
            string error = r.Str("trainingError");
            stats = stats with { Generation = generation, TrainingError = error.Length == 0 ? null : error };
        }

        r.End();
        return new InfoResponse(options, stats, bytesOnDisk, version);
    }
}
