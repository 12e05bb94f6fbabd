namespace VectorStore.Storage;

/// <summary>
/// One finished target-recall tuning a snapshot records (version 9, data-format.md §4.4): the generation whose index
/// it was tuned on, the search it answers (target, k, and the knobs the caller fixed, 0 = tuned) and what was chosen.
/// </summary>
internal readonly record struct SnapshotTunedSetting(int Generation, double Target, int K, int Ef, int NProbe, int Rerank, int TunedEf, int TunedNProbe);

/// <summary>
/// The tuning state a snapshot records (version 9): the file holding the caller's tuning queries (§4.13; null when
/// none were given) and every finished tuning of a generation whose index the snapshot holds, so a reopened
/// collection neither tunes again on the request path nor falls back to tuning on stored vectors.
/// </summary>
internal sealed record SnapshotTuning(PinnedFileReference? QueriesFile, IReadOnlyList<SnapshotTunedSetting> Settings)
{
    /// <summary>The most settings a snapshot may list (a few per target a workload asks; more is damage).</summary>
    public const int MaxSettings = 4096;

    /// <summary>
    /// The largest k, depth or knob a setting may hold (<see cref="Collections.SearchOptions.MaxK"/>, what a search
    /// accepts and the tuner never exceeds): a larger one is damage, and a search would size its buffers by it.
    /// </summary>
    public const int MaxValue = Collections.SearchOptions.MaxK;

    /// <summary>The queries read back from <see cref="QueriesFile"/> (null when written, or when there is none).</summary>
    public float[][]? Queries { get; init; }

    public static readonly SnapshotTuning None = new(null, []);

    /// <summary><c>u8 hasQueries</c> (+ <c>i32 sequence</c>, <c>i64 length</c>, <c>u64 hash</c>), <c>i32 n</c>, n settings.</summary>
    public void Write(BinaryWriter w)
    {
        if (QueriesFile is { } f)
        {
            w.Write((byte)1);
            f.Write(w);
        }
        else w.Write((byte)0);
        w.Write(Settings.Count);
        foreach (var s in Settings)
        {
            w.Write(s.Generation);
            w.Write(s.Target);
            w.Write(s.K);
            w.Write(s.Ef);
            w.Write(s.NProbe);
            w.Write(s.Rerank);
            w.Write(s.TunedEf);
            w.Write(s.TunedNProbe);
        }
    }

    /// <summary>
    /// Reads <see cref="Write"/>'s bytes and the queries file they name; a setting for a generation not in
    /// <paramref name="tunable"/> (those whose index the snapshot holds) or with values no tuning produces is damage.
    /// </summary>
    public static SnapshotTuning Read(BinaryReader r, string path, int dimension, IReadOnlySet<int> tunable)
    {
        PinnedFileReference? file = null;
        float[][]? queries = null;
        byte flag = r.ReadByte();
        if (flag == 1)
        {
            file = PinnedFileReference.Read(r);
            queries = TuningQueriesFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, file.Value, dimension);
        }
        else if (flag != 0) throw new StoreCorruptedException(path, $"snapshot tuning queries flag {flag} is invalid");
        int n = r.ReadInt32();
        if (n is < 0 or > MaxSettings) throw new StoreCorruptedException(path, $"snapshot tuned settings count {n} is invalid");
        var settings = new SnapshotTunedSetting[n];
        for (int i = 0; i < n; i++)
        {
            var s = new SnapshotTunedSetting(r.ReadInt32(), r.ReadDouble(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            if (!tunable.Contains(s.Generation))
                throw new StoreCorruptedException(path, $"snapshot tuned setting for generation {s.Generation}, which has no index in it");
            if (!(s.Target is > 0 and <= 1) || s.K is <= 0 or > MaxValue || s.Ef is < 0 or > MaxValue || s.NProbe is < 0 or > MaxValue
                || s.Rerank is < 0 or > MaxValue || s.TunedEf is < 0 or > MaxValue || s.TunedNProbe is < 0 or > MaxValue)
                throw new StoreCorruptedException(path, $"snapshot tuned setting {i} is invalid (target {s.Target}, k {s.K}, ef {s.Ef}/{s.TunedEf}, nprobe {s.NProbe}/{s.TunedNProbe}, rerank {s.Rerank})");
            settings[i] = s;
        }
        return new SnapshotTuning(file, settings) { Queries = queries };
    }
}
