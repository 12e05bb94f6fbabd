using VectorStore.Indexing;

namespace VectorStore.Drift;

/// <summary>The monitor's baseline and running state in a snapshot (data-format.md, "Drift baseline").</summary>
public sealed partial class DriftMonitor
{
    private const uint Magic = 0x52445356; // "VSDR"
    private const byte FormatVersion = 1;

    /// <summary>
    /// Writes the baseline and the running state (observed count, window, reservoir, latest periodic tests), so a
    /// monitor read back reports what this one reports now. Consistent with concurrent <see cref="Observe"/> calls
    /// (whole batches or groups are in or out).
    /// </summary>
    public void Write(BinaryWriter w)
    {
        WriteBaseline(w);
        WriteRunning(w);
    }

    /// <summary>
    /// Writes the first part of <see cref="Write"/>'s bytes: the shape, seed and training baseline, fixed for the life
    /// of this monitor, so a store can keep them in a file of their own and write only <see cref="WriteRunning"/> again.
    /// </summary>
    public void WriteBaseline(BinaryWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var b = _baseline;
        int dim = _probe.Dimension;
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(dim);
        w.Write(_probe.Saturation?.QuantizedDimensions ?? 0);
        w.Write(b.SubQuantizers);
        w.Write(b.Entries);
        w.Write(b.Lists);
        w.Write(DriftBaseline.DistanceBins);
        w.Write(_seed);
        b.Write(w);
    }

    /// <summary>Writes the rest of <see cref="Write"/>'s bytes: the running state (observed count, window, reservoir, latest tests).</summary>
    public void WriteRunning(BinaryWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        lock (_gate) WriteRunningLocked(w, null);
    }

    /// <summary>The reservoir's rows a store keeps outside the running state (<see cref="WriteRunningWithoutReservoir"/>).</summary>
    /// <param name="Added">Rows ever added to this monitor's reservoir when it was written (the next call's <c>since</c>).</param>
    /// <param name="Rows">Rows oldest first, <c>dimension</c> floats each: those added since <c>since</c>, or the whole reservoir when <paramref name="Whole"/>.</param>
    /// <param name="Whole">Whether <paramref name="Rows"/> is the whole reservoir (asked for, or more rows were added since than it holds).</param>
    /// <param name="Observed">The observed count written with them (with <paramref name="Added"/>, what the written state is as of).</param>
    internal readonly record struct ReservoirRows(long Added, float[] Rows, bool Whole, long Observed);

    /// <summary>
    /// Writes <see cref="WriteRunning"/>'s bytes with the reservoir's rows left out (its row count written as −1, then
    /// the count), and returns, taken under the same lock, the rows a store appends to where it keeps them: those
    /// added since <paramref name="since"/> (a previous call's <see cref="ReservoirRows.Added"/>), or the whole
    /// reservoir when <paramref name="since"/> is negative or more rows were added since than it holds.
    /// <see cref="Read(BinaryReader, VectorIndex, DriftSettings, string, ReadOnlyMemory{float}?, Func{int, DriftSettings}?)"/> takes
    /// back as many of the last kept rows as the reservoir held (the count in the bytes).
    /// </summary>
    internal ReservoirRows WriteRunningWithoutReservoir(BinaryWriter w, long since)
    {
        ArgumentNullException.ThrowIfNull(w);
        lock (_gate)
        {
            long fresh = _reservoirAdded - since;
            bool whole = since < 0 || fresh > _reservoirCount;
            var rows = NewestRows(whole ? _reservoirCount : (int)fresh);
            long observed = Observed;
            WriteRunningLocked(w, _reservoirCount);
            return new ReservoirRows(_reservoirAdded, rows, whole, observed);
        }
    }

    /// <summary>A copy of the reservoir's newest <paramref name="take"/> rows, oldest first, whatever the ring's rotation; the caller holds the lock.</summary>
    private float[] NewestRows(int take)
    {
        var (first, second) = NewestRuns(take);
        var rows = new float[first.Length + second.Length];
        first.Span.CopyTo(rows);
        second.Span.CopyTo(rows.AsSpan(first.Length));
        return rows;
    }

    /// <summary>
    /// The reservoir's newest <paramref name="take"/> rows, oldest first, as the ring holds them: a run up to the ring's
    /// end, then one from its start (empty unless the rows wrap). No copy; the caller holds the lock while it reads them.
    /// </summary>
    private (ReadOnlyMemory<float> First, ReadOnlyMemory<float> Second) NewestRuns(int take)
    {
        int dim = _probe.Dimension;
        int start = OldestOfNewest(take);
        int firstRows = Math.Min(take, _reservoirCapacity - start);
        return (_reservoir.AsMemory(start * dim, firstRows * dim), _reservoir.AsMemory(0, (take - firstRows) * dim));
    }

    /// <summary>The running state; <paramref name="externalCount"/> set: the reservoir's rows are kept elsewhere.</summary>
    private void WriteRunningLocked(BinaryWriter w, int? externalCount)
    {
        w.Write(Observed);
        w.Write(_chunkCapacity);
        w.Write(Chunks);
        w.Write(_current);
        foreach (var chunk in _window) chunk.Write(w);
        if (externalCount is { } n)
        {
            w.Write(-1);
            w.Write(n);
        }
        else
        {
            w.Write(_reservoirCount);
            // Oldest first, so a reader with a smaller reservoir keeps the newest rows.
            // Straight from the ring: a snapshot writing the reservoir inline does not copy it first.
            var (first, second) = NewestRuns(_reservoirCount);
            foreach (float v in first.Span) w.Write(v);
            foreach (float v in second.Span) w.Write(v);
        }
        w.Write(_tests);
        w.Write(_periodic is not null);
        if (_periodic is { } p)
        {
            w.Write(p.Observed);
            w.Write(p.MeanShift);
            w.Write(p.MeanShiftExpected);
            w.Write(p.Mmd.Statistic);
            w.Write(p.Mmd.Threshold);
            w.Write(p.Mmd.NullMean);
        }
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote, for <paramref name="index"/> (the same trained index the monitor was made
    /// for, read from the same snapshot). The training baseline is kept whatever <paramref name="settings"/> say; the
    /// window is kept when its shape (<see cref="DriftSettings.WindowSize"/>) is unchanged and restarts empty
    /// otherwise; the reservoir keeps its newest rows up to the new <see cref="DriftSettings.ReservoirSize"/>.
    /// </summary>
    /// <exception cref="StoreCorruptedException">Bad or truncated bytes, or a baseline of another shape than the index (names <paramref name="path"/>).</exception>
    /// <exception cref="InvalidArgumentException">Bad settings.</exception>
    public static DriftMonitor Read(BinaryReader r, VectorIndex index, DriftSettings settings, string path) => Read(r, index, settings, path, null);

    /// <summary>
    /// <see cref="Read(BinaryReader, VectorIndex, DriftSettings, string)"/> of bytes whose reservoir rows were left
    /// out (<see cref="WriteRunningWithoutReservoir"/>): they are the last of <paramref name="externalRows"/> (rows
    /// oldest first); without it such bytes are refused. With <paramref name="settingsFor"/>, the monitor runs with the
    /// settings it gives for the kept baseline sample's row count (a store that capped a monitor by its training
    /// sample caps the one it reads back the same way).
    /// </summary>
    internal static DriftMonitor Read(BinaryReader r, VectorIndex index, DriftSettings settings, string path, ReadOnlyMemory<float>? externalRows,
        Func<int, DriftSettings>? settingsFor = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        try
        {
            return ReadCore(r, index, settings, externalRows, settingsFor);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or OverflowException or ArgumentException)
        {
            throw new StoreCorruptedException(path, $"drift baseline: {e.Message}", e);
        }
    }

    private static DriftMonitor ReadCore(BinaryReader r, VectorIndex index, DriftSettings settings, ReadOnlyMemory<float>? externalRows,
        Func<int, DriftSettings>? settingsFor)
    {
        uint magic = r.ReadUInt32();
        if (magic != Magic) throw new InvalidDataException($"bad magic 0x{magic:X8}");
        byte version = r.ReadByte();
        if (version != FormatVersion) throw new InvalidDataException($"version {version} is not known (this build reads {FormatVersion})");
        var probe = new CodeProbe(index);
        int dim = r.ReadInt32(), quantized = r.ReadInt32(), m = r.ReadInt32(), entries = r.ReadInt32(), lists = r.ReadInt32(), bins = r.ReadInt32();
        int expectedQuantized = probe.Saturation?.QuantizedDimensions ?? 0, expectedEntries = probe.SubCodebooks?.EntriesPerSubQuantizer ?? 0;
        if (dim != probe.Dimension || quantized != expectedQuantized || m != probe.SubQuantizers || entries != expectedEntries
            || lists != probe.Lists || bins != DriftBaseline.DistanceBins)
            throw new InvalidDataException($"baseline of shape (dimension {dim}, clipped {quantized}, M {m}x{entries}, lists {lists}, bins {bins}) " +
                $"does not fit index {index.Spec} with codec {probe.Codec.Spec} (dimension {probe.Dimension}, clipped {expectedQuantized}, " +
                $"M {probe.SubQuantizers}x{expectedEntries}, lists {probe.Lists}, bins {DriftBaseline.DistanceBins})");
        int seed = r.ReadInt32();
        var baseline = DriftBaseline.Read(r, probe);
        if (settingsFor is not null)
        {
            settings = settingsFor(baseline.Sample.Count);
            settings.Validate();
        }
        var monitor = new DriftMonitor(probe, baseline, settings, seed);
        long observed = r.ReadInt64();
        int chunkCapacity = r.ReadInt32(), chunks = r.ReadInt32(), current = r.ReadInt32();
        if (observed < 0 || chunkCapacity < 1 || chunks is < 1 or > 64 || current < 0 || current >= chunks)
            throw new InvalidDataException($"bad running state (observed {observed}, chunks {chunks} of {chunkCapacity}, current {current})");
        bool sameShape = chunkCapacity == monitor._chunkCapacity && chunks == Chunks;
        var chunk = monitor.NewReadings();
        for (int i = 0; i < chunks; i++)
        {
            var target = sameShape ? monitor._window[i] : chunk;
            target.Read(r, m);
            if (target.Count > chunkCapacity) throw new InvalidDataException($"window chunk holds {target.Count}, capacity {chunkCapacity}");
        }
        if (sameShape) monitor._current = current;
        int stored = r.ReadInt32();
        ReadOnlySpan<float> rows;
        if (stored == -1)
        {
            // Kept elsewhere: the last `stored` of the rows given.
            stored = r.ReadInt32();
            if (externalRows is not { } external) throw new InvalidDataException("the reservoir's rows are kept apart and were not given");
            if (stored < 0 || (long)stored * dim > external.Length) throw new InvalidDataException($"reservoir of {stored} rows, {external.Length / dim} kept");
            rows = external.Span[(int)(external.Length - (long)stored * dim)..];
        }
        else
        {
            // A store that kept the rows apart names them exactly when the state says so.
            if (externalRows is not null) throw new InvalidDataException("the reservoir's rows are both inline and kept apart");
            if (stored is < 0 or > 1_000_000) throw new InvalidDataException($"bad reservoir size {stored}");
            rows = DriftBaseline.Floats(r, (long)stored * dim);
        }
        int keep = Math.Min(stored, monitor._reservoirCapacity);
        rows[(int)((long)(stored - keep) * dim)..].CopyTo(monitor._reservoir);
        monitor._reservoirCount = keep;
        monitor._reservoirNext = keep % monitor._reservoirCapacity;
        monitor._reservoirAdded = keep;
        int tests = r.ReadInt32();
        if (tests < 0) throw new InvalidDataException($"bad test count {tests}");
        monitor._tests = tests;
        if (r.ReadBoolean())
        {
            long at = r.ReadInt64();
            double shift = r.ReadDouble(), shiftExpected = r.ReadDouble(), mmd = r.ReadDouble(), threshold = r.ReadDouble(), nullMean = r.ReadDouble();
            if (at < 0 || at > observed || !double.IsFinite(shift) || !double.IsFinite(shiftExpected) || !double.IsFinite(mmd)
                || !double.IsFinite(threshold) || !double.IsFinite(nullMean))
                throw new InvalidDataException("bad periodic test result");
            monitor._periodic = new PeriodicResult(at, shift, shiftExpected, new MmdResult(mmd, threshold, nullMean));
        }
        monitor._observed = observed;
        return monitor;
    }
}
