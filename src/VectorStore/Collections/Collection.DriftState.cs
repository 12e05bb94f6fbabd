using VectorStore.Drift;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// The live drift monitor's state in snapshots: its baseline in a drift baseline file written once per monitor, its
/// reservoir of recent sampled vectors in a drift reservoir file that checkpoints append to, the rest inline.
/// </summary>
public sealed partial class Collection
{
    // The drift baseline file the snapshots name and the monitor whose baseline it holds (weakly: a replaced
    // generation's monitor must not stay alive for it).
    private PinnedFileReference? _driftBaselineFile;
    private WeakReference<DriftMonitor>? _driftBaselineOf;
    private int _nextDriftFile = 1;

    // The drift reservoir file, the monitor whose rows it holds, and that monitor's count of added rows when they
    // were last appended.
    private DriftReservoirFile? _reservoirFile;
    private WeakReference<DriftMonitor>? _reservoirFileOf;
    private long _reservoirFileAdded;
    private int _nextReservoirFile = 1;

    // What the live monitor's state in the last published snapshot is as of (observed vectors, reservoir rows added),
    // and in the snapshot being published: a batch whose observation lands after a checkpoint captured the monitor
    // is in no log record that snapshot does not cover, so only this tells the next checkpoint it is due.
    private DriftWritten? _driftWritten;
    private DriftWritten? _driftInSnapshot;

    /// <summary>A monitor (weakly: a replaced generation's must not stay alive for it) and how far its written state goes.</summary>
    private sealed record DriftWritten(WeakReference<DriftMonitor> Monitor, long Observed, long Added);

    /// <summary>Whether the live monitor is another, or observed anything since the state the last published snapshot holds.</summary>
    private bool DriftChangedSinceSnapshot()
    {
        if (Volatile.Read(ref _current).Drift is not { } live) return false;
        var written = Volatile.Read(ref _driftWritten);
        return written is null || !Holds(written.Monitor, live) || live.Observed != written.Observed || live.ReservoirAdded != written.Added;
    }

    /// <summary>
    /// The live monitor's state for a snapshot in <paramref name="directory"/> (under the upgradeable lock): its
    /// baseline in a drift baseline file (written once per monitor: the baseline is fixed for its life), the rows
    /// sampled since the last checkpoint appended to the drift reservoir file (a new file holding only the reservoir
    /// for a new monitor, or once the file would pass twice the reservoir), and the running state to write inline.
    /// </summary>
    private (byte[]? Running, PinnedFileReference? Baseline, ReservoirFileReference? Reservoir) DriftStateLocked(string directory)
    {
        if (_current.Drift is not { } monitor)
        {
            (_driftBaselineFile, _driftBaselineOf) = (null, null);
            (_reservoirFile, _reservoirFileOf) = (null, null);
            _driftInSnapshot = null;
            return (null, null, null);
        }
        if (!Holds(_driftBaselineOf, monitor) || _driftBaselineFile is null)
        {
            (_driftBaselineFile, _driftBaselineOf) = (null, null);
            _driftBaselineFile = DriftBaselineFile.Write(directory, _nextDriftFile++, Serialize(monitor.WriteBaseline));
            _driftBaselineOf = new WeakReference<DriftMonitor>(monitor);
        }
        var file = Holds(_reservoirFileOf, monitor) ? _reservoirFile : null;
        // Rows can only have been added since the count is read: a new file is started early, never late.
        bool fresh = file is null || file.Rows + (monitor.ReservoirAdded - _reservoirFileAdded) > 2L * monitor.ReservoirCapacity;
        DriftMonitor.ReservoirRows rows = default;
        var running = Serialize(w => rows = monitor.WriteRunningWithoutReservoir(w, fresh ? -1 : _reservoirFileAdded));
        // Forgotten first: if the write fails, the next checkpoint starts a new file.
        (_reservoirFile, _reservoirFileOf) = (null, null);
        if (fresh || rows.Whole) file = DriftReservoirFile.Create(directory, _nextReservoirFile++, Options.Dimension, rows.Rows);
        else file!.Append(rows.Rows);
        (_reservoirFile, _reservoirFileOf, _reservoirFileAdded) = (file, new WeakReference<DriftMonitor>(monitor), rows.Added);
        _driftInSnapshot = new DriftWritten(new WeakReference<DriftMonitor>(monitor), rows.Observed, rows.Added);
        return (running, _driftBaselineFile, file.Reference);
    }

    /// <summary>Whether <paramref name="reference"/> still points at <paramref name="target"/> (the object a kept file was written for).</summary>
    private static bool Holds<T>(WeakReference<T>? reference, T target) where T : class =>
        reference is not null && reference.TryGetTarget(out var held) && ReferenceEquals(held, target);

    private static byte[] Serialize(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) write(w);
        return ms.ToArray();
    }

    /// <summary>
    /// After a restore: the live monitor comes back from the snapshot's drift state (its reservoir rows from the drift
    /// reservoir file when the snapshot named one), and later snapshots keep naming the same baseline file and append
    /// to the same reservoir file.
    /// </summary>
    private void RestoreDriftLocked(SnapshotGenerations? s)
    {
        if (s?.Drift is not { } state || _current.Index is null) return;
        using (var r = new BinaryReader(new MemoryStream(state)))
            _current.Drift = DriftMonitor.Read(r, _current.Index, DriftSettings, Name, s.DriftReservoirRows is { } rows ? rows : null, RestoredDriftSettings);
        var monitor = _current.Drift;
        _nextDriftCheck = monitor.Observed + DriftCheckInterval;
        _driftWritten = new DriftWritten(new WeakReference<DriftMonitor>(monitor), monitor.Observed, monitor.ReservoirAdded);
        if (s.DriftBaseline is { } f)
        {
            _driftBaselineFile = f;
            _driftBaselineOf = new WeakReference<DriftMonitor>(monitor);
            _nextDriftFile = Math.Max(_nextDriftFile, f.Sequence + 1);
        }
        if (s.DriftReservoirFile is { } reservoir)
        {
            (_reservoirFile, _reservoirFileOf, _reservoirFileAdded) = (reservoir, new WeakReference<DriftMonitor>(monitor), monitor.ReservoirAdded);
            _nextReservoirFile = Math.Max(_nextReservoirFile, reservoir.Sequence + 1);
        }
    }
}
