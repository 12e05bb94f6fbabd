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
        int dim = _probe.Dimension;
        lock (_gate)
        {
            w.Write(Observed);
            w.Write(_chunkCapacity);
            w.Write(Chunks);
            w.Write(_current);
            foreach (var chunk in _window) chunk.Write(w);
            w.Write(_reservoirCount);
            // Oldest first, so a reader with a smaller reservoir keeps the newest rows.
            int first = _reservoirCount < _reservoirCapacity ? 0 : _reservoirNext;
            for (int i = 0; i < _reservoirCount; i++)
                foreach (float v in _reservoir.AsSpan((first + i) % _reservoirCapacity * dim, dim)) w.Write(v);
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
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote, for <paramref name="index"/> (the same trained index the monitor was made
    /// for, read from the same snapshot). The training baseline is kept whatever <paramref name="settings"/> say; the
    /// window is kept when its shape (<see cref="DriftSettings.WindowSize"/>) is unchanged and restarts empty
    /// otherwise; the reservoir keeps its newest rows up to the new <see cref="DriftSettings.ReservoirSize"/>.
    /// </summary>
    /// <exception cref="StoreCorruptedException">Bad or truncated bytes, or a baseline of another shape than the index (names <paramref name="path"/>).</exception>
    /// <exception cref="InvalidArgumentException">Bad settings.</exception>
    public static DriftMonitor Read(BinaryReader r, VectorIndex index, DriftSettings settings, string path)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        try
        {
            return ReadCore(r, index, settings);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or OverflowException or ArgumentException)
        {
            throw new StoreCorruptedException(path, $"drift baseline: {e.Message}", e);
        }
    }

    private static DriftMonitor ReadCore(BinaryReader r, VectorIndex index, DriftSettings settings)
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
        if (stored is < 0 or > 1_000_000) throw new InvalidDataException($"bad reservoir size {stored}");
        var rows = DriftBaseline.Floats(r, (long)stored * dim);
        int keep = Math.Min(stored, monitor._reservoirCapacity);
        Array.Copy(rows, (long)(stored - keep) * dim, monitor._reservoir, 0, (long)keep * dim);
        monitor._reservoirCount = keep;
        monitor._reservoirNext = keep % monitor._reservoirCapacity;
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
