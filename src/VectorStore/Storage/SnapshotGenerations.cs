using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Quantization;

namespace VectorStore.Storage;

/// <summary>
/// The compression generations a snapshot records (version 4, data-format.md §4.4): the live generation's number and
/// specs (its index and refine codes are the snapshot's main index section), the highest number ever assigned, every
/// other generation with its trained index when it has one (a candidate still building has none and is rebuilt after
/// recovery), and the live generation's drift-sensor state.
/// </summary>
internal sealed record SnapshotGenerations(int Live, int Last, string LiveCompression, string LiveIndex, IReadOnlyList<SnapshotGeneration> Others, byte[]? Drift)
{
    /// <summary>The collection's lifecycle policy (<see cref="PolicyCodec"/>); null = the defaults.</summary>
    public byte[]? Policy { get; init; }

    /// <summary>
    /// The file holding the first part of the drift state (its baseline; version 8). Written with it, <see cref="Drift"/>
    /// holds only the rest (the running state); read back, <see cref="Drift"/> is the whole state again.
    /// </summary>
    public PinnedFileReference? DriftBaseline { get; init; }

    /// <summary>
    /// The prefix of the drift reservoir file holding the reservoir's rows (version 9), which <see cref="Drift"/> then
    /// leaves out. Read back, <see cref="DriftReservoirRows"/> holds that prefix's rows and <see cref="DriftReservoirFile"/>
    /// the state to append after them.
    /// </summary>
    public ReservoirFileReference? DriftReservoir { get; init; }

    /// <summary>The rows of the named drift reservoir prefix, oldest first (read back only).</summary>
    public float[]? DriftReservoirRows { get; init; }

    /// <summary>The drift reservoir file to append to after a restore (read back only).</summary>
    public DriftReservoirFile? DriftReservoirFile { get; init; }

    /// <summary>The tuning queries file and finished tunings (version 9; <see cref="SnapshotTuning.None"/> before).</summary>
    public SnapshotTuning Tuning { get; init; } = SnapshotTuning.None;

    public void Write(BinaryWriter w, int highWater)
    {
        w.Write(Live);
        w.Write(Last);
        w.Write(LiveCompression);
        w.Write(LiveIndex);
        w.Write(Others.Count);
        foreach (var g in Others)
        {
            w.Write(g.Number);
            w.Write((byte)g.State);
            w.Write(g.Compression);
            w.Write(g.Index);
            w.Write(g.RetiredOrder);
            WriteIndex(w, g.Trained);
            WriteRefine(w, g.Refine, highWater);
        }
        if (DriftBaseline is { } baseline)
        {
            w.Write(-1);
            baseline.Write(w);
        }
        w.Write(Drift?.Length ?? 0);
        if (Drift is { Length: > 0 }) w.Write(Drift);
        if (DriftReservoir is { } reservoir)
        {
            w.Write((byte)1);
            reservoir.Write(w);
        }
        else w.Write((byte)0);
        w.Write(Policy?.Length ?? 0);
        if (Policy is { Length: > 0 }) w.Write(Policy);
        Tuning.Write(w);
    }

    /// <summary>An optional trained index: <c>u8</c> flag, then the index as <see cref="IndexRegistry.Write"/> writes it.</summary>
    public static void WriteIndex(BinaryWriter w, VectorIndex? index)
    {
        w.Write(index is null ? (byte)0 : (byte)1);
        if (index is not null) IndexRegistry.Write(index, w);
    }

    /// <summary>An optional refine code: <c>u8</c> flag, then the stage as <see cref="RefineStage.Write"/> writes it.</summary>
    public static void WriteRefine(BinaryWriter w, RefineStage? refine, int highWater)
    {
        w.Write(refine is null ? (byte)0 : (byte)1);
        refine?.Write(w, highWater);
    }

    /// <summary>Reads <see cref="WriteIndex"/>'s section; a bad flag names <paramref name="what"/>.</summary>
    public static VectorIndex? ReadIndex(BinaryReader r, string path, string what) => ReadIndex(r.ReadByte(), r, path, what);

    /// <summary>The same after its flag byte <paramref name="flag"/> was read.</summary>
    public static VectorIndex? ReadIndex(byte flag, BinaryReader r, string path, string what) => flag switch
    {
        0 => null,
        1 => IndexRegistry.Read(r),
        var b => throw new StoreCorruptedException(path, $"snapshot {what} flag {b} is invalid"),
    };

    /// <summary>Reads <see cref="WriteRefine"/>'s section; a bad flag names <paramref name="what"/>.</summary>
    public static RefineStage? ReadRefine(BinaryReader r, int highWater, DistanceKind kind, string path, string what) => r.ReadByte() switch
    {
        0 => null,
        1 => RefineStage.Read(r, highWater, kind, path),
        var b => throw new StoreCorruptedException(path, $"snapshot {what} flag {b} is invalid"),
    };

    /// <summary>
    /// Reads the section; <paramref name="liveHasIndex"/> says whether the snapshot held the live generation's index
    /// (only generations with an index can have tuned settings).
    /// </summary>
    public static SnapshotGenerations Read(BinaryReader r, int highWater, DistanceKind kind, string path, long length, uint version, int dimension, bool liveHasIndex)
    {
        int live = r.ReadInt32();
        int last = r.ReadInt32();
        string liveCompression = r.ReadString();
        string liveIndex = r.ReadString();
        int n = r.ReadInt32();
        if (live <= 0 || last < live || n < 0 || n > 64)
            throw new StoreCorruptedException(path, $"snapshot generations are inconsistent (live {live}, last {last}, {n} others)");
        var others = new SnapshotGeneration[n];
        for (int i = 0; i < n; i++)
        {
            int number = r.ReadInt32();
            byte state = r.ReadByte();
            if (number <= 0 || number > last || number == live || state > (byte)GenerationState.Retired || state == (byte)GenerationState.Live)
                throw new StoreCorruptedException(path, $"snapshot generation {number} (state {state}) is invalid");
            string compression = r.ReadString();
            string index = r.ReadString();
            long retired = r.ReadInt64();
            var trained = ReadIndex(r, path, $"generation {number} index");
            var refine = ReadRefine(r, highWater, kind, path, $"generation {number} refine");
            others[i] = new SnapshotGeneration(number, (GenerationState)state, compression, index, retired, trained, refine);
        }
        int driftLength = r.ReadInt32();
        PinnedFileReference? driftBaseline = null;
        byte[]? baselineBytes = null;
        if (driftLength == -1 && version >= 8)
        {
            // The baseline is in its own file; the running state follows here, and the two together are the state.
            driftBaseline = PinnedFileReference.Read(r);
            baselineBytes = DriftBaselineFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, driftBaseline.Value);
            driftLength = r.ReadInt32();
        }
        if (driftLength < 0 || driftLength > length) throw new StoreCorruptedException(path, $"snapshot drift state length {driftLength} is invalid");
        var drift = driftLength > 0 ? r.ReadBytes(driftLength) : null;
        if (baselineBytes is not null) drift = [.. baselineBytes, .. drift ?? []];
        ReservoirFileReference? reservoir = null;
        float[]? reservoirRows = null;
        DriftReservoirFile? reservoirFile = null;
        if (version >= 9)
        {
            byte flag = r.ReadByte();
            if (flag == 1)
            {
                reservoir = ReservoirFileReference.Read(r);
                if (drift is null) throw new StoreCorruptedException(path, "snapshot names a drift reservoir file but holds no drift state");
                (reservoirRows, reservoirFile) = Storage.DriftReservoirFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, reservoir.Value, dimension);
            }
            else if (flag != 0) throw new StoreCorruptedException(path, $"snapshot drift reservoir flag {flag} is invalid");
        }
        int policyLength = r.ReadInt32();
        if (policyLength is not (0 or PolicyCodec.Size)) throw new StoreCorruptedException(path, $"snapshot lifecycle policy length {policyLength} is invalid");
        var policy = policyLength > 0 ? r.ReadBytes(policyLength) : null;
        if (policy is not null) PolicyCodec.Decode(policy, path);
        var tuning = SnapshotTuning.None;
        if (version >= 9)
        {
            var tunable = others.Where(o => o.Trained is not null).Select(o => o.Number).ToHashSet();
            if (liveHasIndex) tunable.Add(live);
            tuning = SnapshotTuning.Read(r, path, dimension, tunable);
        }
        return new SnapshotGenerations(live, last, liveCompression, liveIndex, others, drift) { Policy = policy, DriftBaseline = driftBaseline, Tuning = tuning,
            DriftReservoir = reservoir, DriftReservoirRows = reservoirRows, DriftReservoirFile = reservoirFile };
    }
}

/// <summary>A non-live generation in a snapshot; <see cref="Trained"/> is null for a candidate still building.</summary>
internal sealed record SnapshotGeneration(int Number, GenerationState State, string Compression, string Index, long RetiredOrder, VectorIndex? Trained, RefineStage? Refine);
