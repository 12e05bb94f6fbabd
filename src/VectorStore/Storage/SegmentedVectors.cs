using System.Collections.Concurrent;
using VectorStore.Distance;

namespace VectorStore.Storage;

/// <summary>
/// The full-precision vectors and payloads of one collection: sealed segment files (<see cref="SegmentFile"/>) plus a
/// buffer of the rows written since the last checkpoint, with one location (segment, row) per slot. In disk residency
/// a read goes to the buffer or the segment's memory mapping; in RAM residency every vector and payload is also held
/// in memory (<see cref="RawVectorStore"/>, a payload array) and segments only persist them. Without a directory (an
/// in-memory database) nothing is ever sealed.
/// Thread-safety: <see cref="Set"/>, <see cref="Remove"/> and <see cref="Restore"/> run under the owner's exclusive
/// (write) lock; reads run concurrently with each other and with <see cref="Seal"/>, which the owner runs under a
/// lock that excludes writers but not readers; <see cref="ReleaseRetired"/> and <see cref="Dispose"/> run under the
/// exclusive lock because they unmap memory that readers may be using.
/// </summary>
internal sealed class SegmentedVectors : IVectorReader, IDisposable
{
    private const long NoLocation = -1;
    private readonly string? _directory;
    private readonly RawVectorStore? _resident;
    // Dirty slots: the row (disk residency) or an empty marker, fresh per write (RAM residency: the resident store and
    // payload array hold the row). Values are never mutated, so a reference identifies one write.
    private readonly ConcurrentDictionary<int, BufferedRow> _buffer = new();
    // Disk residency: where buffered rows' vectors are kept (RAM residency keeps them in the resident store).
    private readonly RowArena? _arena;
    private long _bufferedPayloadBytes;
    // RAM residency: payloads by slot, allocated with the first non-empty one (no bytes per slot without payloads).
    private byte[]?[]? _residentPayloads;
    // Disk residency: payloads an earlier build's snapshot held for rows of format-1 segments (which have none); the
    // next Seal merges those segments, writing each row with its payload. Read concurrently with Seal's removals.
    private ConcurrentDictionary<int, byte[]>? _legacyPayloads;
    private long[] _locations = new long[1024];
    private volatile Dictionary<int, SegmentFile> _segments = [];
    private readonly List<SegmentFile> _retired = [];
    private int _nextSequence = 1;
    private long _diskReads;
    private readonly ReadAheadPolicy _readAhead = new();

    /// <summary>A store for vectors of <paramref name="dimension"/> values, sealing into <paramref name="directory"/> (null: never).</summary>
    public SegmentedVectors(int dimension, string? directory, bool resident)
    {
        if (directory is null && !resident) throw new ArgumentException("disk residency needs a directory");
        Dimension = dimension;
        _directory = directory;
        _resident = resident ? new RawVectorStore(dimension) : null;
        _arena = resident ? null : new RowArena(dimension);
        Array.Fill(_locations, NoLocation);
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>Whether every vector is held in memory.</summary>
    public bool Resident => _resident is not null;

    /// <summary>The resident store (RAM residency only; for benchmarks of the re-rank step).</summary>
    public RawVectorStore? ResidentStore => _resident;

    /// <summary>Vectors read from segment files so far (re-ranking, <c>get</c>, training): the disk-read counter of eval.</summary>
    public long DiskReads => Interlocked.Read(ref _diskReads);

    /// <summary>Segment reads made by the current thread (a search's telemetry takes the difference around it).</summary>
    [ThreadStatic] internal static long ThreadDiskReads;

    /// <summary>Vectors waiting in the buffer for the next checkpoint.</summary>
    public int BufferedCount => _buffer.Count;

    /// <summary>Bytes of buffered vectors and payloads (disk residency; 0 when resident, where the buffer only marks slots).</summary>
    public long BufferedBytes => Resident ? 0 : (long)_buffer.Count * Dimension * sizeof(float) + Interlocked.Read(ref _bufferedPayloadBytes);

    /// <summary>
    /// Bytes held in the process's memory: resident vectors and payloads or the buffer, and the location table. The
    /// memory-mapped rows and payloads are page cache and not counted.
    /// </summary>
    public long ResidentBytes
    {
        get
        {
            long bytes = (_resident?.MemoryBytes ?? 0) + (long)_locations.Length * sizeof(long) + (long)_buffer.Count * 64;
            // Out of core: the arena's blocks (buffered rows, and free blocks kept for the next ones) and payloads.
            if (!Resident) bytes += _arena!.Bytes + Interlocked.Read(ref _bufferedPayloadBytes);
            if (_residentPayloads is { } payloads)
            {
                bytes += (long)payloads.Length * IntPtr.Size;
                foreach (var p in payloads) bytes += p?.Length ?? 0;
            }
            return bytes;
        }
    }

    /// <summary>Bytes of the segment files.</summary>
    public long SegmentBytes => _segments.Values.Sum(s => s.FileBytes);

    /// <inheritdoc />
    public ReadOnlySpan<float> Get(int slot)
    {
        if (_resident is not null) return _resident.Get(slot);
        if (_buffer.TryGetValue(slot, out var b)) return b.Vector.Span;
        long loc = Volatile.Read(ref _locations[slot]);
        Interlocked.Increment(ref _diskReads);
        ThreadDiskReads++;
        return _segments[(int)(loc >> 32)].Row((int)loc);
    }

    /// <summary>
    /// The payload of a stored slot (null: none). Out of core it is read from the segment's mapping (verified against
    /// its CRC) into a fresh array; resident and buffered payloads are returned as stored (callers must not mutate them).
    /// </summary>
    public byte[]? Payload(int slot)
    {
        if (_resident is not null) return ResidentPayload(slot);
        if (_buffer.TryGetValue(slot, out var b)) return b.Payload;
        if (_legacyPayloads is { } legacy && legacy.TryGetValue(slot, out var old)) return old;
        long loc = Volatile.Read(ref _locations[slot]);
        return _segments[(int)(loc >> 32)].Payload((int)loc);
    }

    /// <summary>
    /// Gives <paramref name="slot"/>, restored from a snapshot of an earlier build that held payloads itself, its
    /// <paramref name="payload"/>: resident, it is stored and the row marked for the next checkpoint; out of core it
    /// is held (with the row's vector left in its segment) until the next <see cref="Seal"/> rewrites that segment
    /// with payloads. Either way the store is dirty until then (<see cref="BufferedBytes"/> counts it out of core).
    /// </summary>
    public void AdoptLegacyPayload(int slot, byte[] payload)
    {
        if (_resident is not null)
        {
            SetResidentPayload(slot, payload);
            if (_directory is not null) Buffer(slot, new BufferedRow(default, null));
            return;
        }
        if (_buffer.TryGetValue(slot, out var b))
        {
            Buffer(slot, new BufferedRow(b.Vector, payload));
            return;
        }
        (_legacyPayloads ??= new())[slot] = payload;
        Interlocked.Add(ref _bufferedPayloadBytes, payload.Length);
    }

    private void DropLegacyPayload(int slot)
    {
        if (_legacyPayloads is { } legacy && legacy.TryRemove(slot, out var p)) Interlocked.Add(ref _bufferedPayloadBytes, -p.Length);
    }

    /// <inheritdoc />
    public void ComputeDistances(DistanceKind kind, ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances)
    {
        if (_resident is not null)
        {
            _resident.ComputeDistances(kind, query, slots, distances);
            return;
        }
        if (distances.Length < slots.Length) throw new ArgumentException("fewer distance outputs than slots");
        // One query's candidates are requested together, so on a cold cache their page faults overlap instead of
        // queueing; on a warm one the hints are skipped (ReadAheadPolicy). A checkpoint may move a slot to a new
        // segment meanwhile: the table is re-read after each location (Seal publishes the table before the locations
        // that point into it).
        // Batches without kernel hints (a warm cache, or a policy probe) prefetch their rows into L2 like resident
        // ones, the first PrefetchDistance of them up front and then that far ahead, so their misses overlap.
        var batch = _readAhead.Begin();
        int ahead = batch.Hint ? 0 : RawVectorStore.PrefetchDistance(Dimension);
        int fromDisk = 0;
        foreach (int slot in slots)
        {
            if (_buffer.ContainsKey(slot)) continue;
            fromDisk++;
            if (!batch.Hint)
            {
                if (fromDisk <= ahead) PrefetchRow(slot);
                continue;
            }
            long loc = Volatile.Read(ref _locations[slot]);
            _segments[(int)(loc >> 32)].WillNeed((int)loc);
        }
        Interlocked.Add(ref _diskReads, fromDisk);
        ThreadDiskReads += fromDisk;
        for (int i = 0; i < slots.Length; i++)
        {
            if (ahead > 0 && i + ahead < slots.Length) PrefetchRow(slots[i + ahead]);
            int slot = slots[i];
            if (_buffer.TryGetValue(slot, out var b))
            {
                distances[i] = Distances.Compute(kind, query, b.Vector.Span);
                continue;
            }
            long loc = Volatile.Read(ref _locations[slot]);
            distances[i] = Distances.Compute(kind, query, _segments[(int)(loc >> 32)].Row((int)loc));
        }
        _readAhead.End(batch, fromDisk);
    }

    /// <summary>
    /// Into L2, the segment row <paramref name="slot"/> was last sealed into: a hint, so a buffered slot (its
    /// location stale or none) costs at most a wasted line. Segments are only released under the exclusive lock, so
    /// none goes away under a search.
    /// </summary>
    private void PrefetchRow(int slot)
    {
        long loc = Volatile.Read(ref _locations[slot]);
        if (loc != NoLocation && _segments.TryGetValue((int)(loc >> 32), out var segment)) segment.PrefetchRow((int)loc);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Resident: into the CPU cache. Out of core: the kernel's read-ahead for each segment row, and only while the
    /// <see cref="ReadAheadPolicy"/> finds the cache cold (on a warm one it would be a system call per row for nothing).
    /// </remarks>
    public void Prefetch(ReadOnlySpan<int> slots)
    {
        if (_resident is not null)
        {
            _resident.Prefetch(slots);
            return;
        }
        if (!_readAhead.Hinting) return;
        foreach (int slot in slots)
        {
            if (_buffer.ContainsKey(slot)) continue;
            long loc = Volatile.Read(ref _locations[slot]);
            _segments[(int)(loc >> 32)].WillNeed((int)loc);
        }
    }

    /// <summary>Whether re-rank reads currently ask the kernel to read ahead (see <see cref="ReadAheadPolicy"/>).</summary>
    public bool ReadAheadHinting => _readAhead.Hinting;

    /// <summary>
    /// Stores the vector and payload (null or empty: none; the array is kept, not copied) of <paramref name="slot"/>
    /// (new or overwritten) until the next <see cref="Seal"/>.
    /// </summary>
    public void Set(int slot, ReadOnlySpan<float> vector, byte[]? payload)
    {
        EnsureCapacity(slot);
        Forget(slot);
        if (payload is { Length: 0 }) payload = null;
        if (_resident is not null)
        {
            _resident.Set(slot, vector);
            SetResidentPayload(slot, payload);
            // A fresh marker per write (set after the row): a checkpoint sealing concurrently tells by reference
            // whether the row it copied is still the slot's current one.
            if (_directory is not null) Buffer(slot, new BufferedRow(default, null));
        }
        else Buffer(slot, new BufferedRow(_arena!.Append(vector), payload));
    }

    private void SetResidentPayload(int slot, byte[]? payload)
    {
        if (payload is null)
        {
            if (_residentPayloads is { } existing && slot < existing.Length) existing[slot] = null;
            return;
        }
        if (_residentPayloads is null || slot >= _residentPayloads.Length)
        {
            var grown = new byte[]?[Math.Max(slot + 1, _locations.Length)];
            _residentPayloads?.CopyTo(grown, 0);
            _residentPayloads = grown;
        }
        _residentPayloads[slot] = payload;
    }

    private void Buffer(int slot, BufferedRow row)
    {
        Interlocked.Add(ref _bufferedPayloadBytes, row.Payload?.Length ?? 0);
        BufferedRow? old = null;
        _buffer.AddOrUpdate(slot, row, (_, previous) => { old = previous; return row; });
        if (old?.Payload is { } p) Interlocked.Add(ref _bufferedPayloadBytes, -p.Length);
    }

    private void Unbuffer(int slot, BufferedRow? expected = null)
    {
        bool removed = expected is null ? _buffer.TryRemove(slot, out expected) : _buffer.TryRemove(new KeyValuePair<int, BufferedRow>(slot, expected));
        if (removed && expected!.Payload is { } p) Interlocked.Add(ref _bufferedPayloadBytes, -p.Length);
    }

    /// <summary>Frees <paramref name="slot"/>: its segment row becomes dead space for a merge to reclaim.</summary>
    public void Remove(int slot)
    {
        if (slot >= _locations.Length) return;
        Forget(slot);
        Unbuffer(slot);
        if (_resident is not null) SetResidentPayload(slot, null);
    }

    private void Forget(int slot)
    {
        DropLegacyPayload(slot);
        long loc = _locations[slot];
        if (loc == NoLocation) return;
        if (_segments.TryGetValue((int)(loc >> 32), out var seg)) seg.LiveRows--;
        _locations[slot] = NoLocation;
    }

    /// <summary>Grows the location table to hold <paramref name="slot"/>: doubling for inserts, exactly when restoring (the size is known, and doubling slack is resident memory).</summary>
    private void EnsureCapacity(int slot, bool exact = false)
    {
        if (slot < _locations.Length) return;
        int cap = _locations.Length;
        if (exact) cap = slot + 1;
        else while (cap <= slot) cap *= 2;
        var grown = new long[cap];
        Array.Copy(_locations, grown, _locations.Length);
        Array.Fill(grown, NoLocation, _locations.Length, cap - _locations.Length);
        _locations = grown;
    }

    /// <summary>
    /// Seals every buffered vector of a live slot into a new segment, together with the live rows of segments a merge
    /// rewrites (with <paramref name="compact"/>: every segment with a dead row; otherwise those at most half live,
    /// and the smallest when more than <see cref="MaxSegments"/> would remain). Returns the segments the state now
    /// references. Rewritten segments are retired: unmapped by <see cref="ReleaseRetired"/>, their files deleted by
    /// the caller once a snapshot that no longer names them is published. <paramref name="relocated"/> hears of every
    /// slot whose location changes (a buffered row sealed, a row a merge moved).
    /// </summary>
    public IReadOnlyList<(int Sequence, int Rows)> Seal(ulong[] ids, int highWater, bool compact, PreSealed? pre = null, Action<int>? relocated = null)
    {
        if (_directory is null) throw new InvalidOperationException("an in-memory store has no segments");
        if (pre is not null) Adopt(pre, highWater, relocated);
        var current = _segments;
        // Segments a merge already retired (their rows moved; still mapped until ReleaseRetired, which a failed
        // publish may not have reached) are never chosen again.
        var candidates = current.Values.Where(s => !_retired.Contains(s)).ToList();
        var merge = new HashSet<int>();
        foreach (var s in candidates)
            if (compact ? s.LiveRows < s.Rows : s.LiveRows * 2 <= s.Rows) merge.Add(s.Sequence);
        // Rows with a payload only an earlier build's snapshot held: their segments are rewritten with the payloads.
        if (_legacyPayloads is { IsEmpty: false } legacy)
            foreach (int slot in legacy.Keys)
                if (slot < highWater && _locations[slot] != NoLocation) merge.Add((int)(_locations[slot] >> 32));
        // Too many segments: the smallest are merged, leaving half the limit. Rewriting the small ones, not all but the
        // largest, keeps a checkpoint's merge proportional to what recent checkpoints wrote (size-tiered): with five
        // 64 MiB segments from a load and a dozen small ones from later checkpoints, all but the largest was 237 MB.
        var remaining = candidates.Where(s => !merge.Contains(s.Sequence)).OrderBy(s => s.LiveRows).ThenBy(s => s.Sequence).ToList();
        if (remaining.Count > MaxSegments)
            foreach (var s in remaining.Take(remaining.Count - MaxSegments / 2 + 1)) merge.Add(s.Sequence);
        var slots = new List<int>(_buffer.Count);
        foreach (var slot in _buffer.Keys) if (slot < highWater) slots.Add(slot);
        if (merge.Count > 0)
            for (int s = 0; s < highWater; s++)
            {
                long loc = _locations[s];
                if (loc != NoLocation && merge.Contains((int)(loc >> 32))) slots.Add(s);
            }
        slots.Sort();
        if (slots.Count > 0)
        {
            // One segment per MaxRows rows (a segment's row table is one array). If a write fails (a full disk), the
            // state is as before: nothing retired, nothing switched, what was opened closed again.
            var written = new List<(SegmentFile Segment, int[] Slots)>();
            try
            {
                for (int start = 0; start < slots.Count; start += SegmentFile.MaxRows)
                {
                    int seq = _nextSequence++;
                    var slotArray = slots.GetRange(start, Math.Min(SegmentFile.MaxRows, slots.Count - start)).ToArray();
                    SegmentFile.Write(_directory, seq, Dimension, slotArray.Length, r => ReadForSeal(slotArray[r]), r => ids[slotArray[r]], r => Payload(slotArray[r]));
                    written.Add((SegmentFile.Open(_directory, seq, Dimension, slotArray.Length, map: _resident is null, out _), slotArray));
                }
            }
            catch
            {
                foreach (var (segment, _) in written) segment.Dispose();
                throw;
            }
            // Readers look in the buffer (and the legacy payloads) first: the table is published, then the locations
            // switched, then the buffer entries dropped.
            var next = new Dictionary<int, SegmentFile>(current);
            foreach (var (segment, _) in written) next[segment.Sequence] = segment;
            _segments = next;
            foreach (var (segment, slotArray) in written)
                for (int r = 0; r < slotArray.Length; r++)
                {
                    Volatile.Write(ref _locations[slotArray[r]], ((long)segment.Sequence << 32) | (uint)r);
                    relocated?.Invoke(slotArray[r]);
                }
            foreach (int slot in slots)
            {
                Unbuffer(slot);
                DropLegacyPayload(slot);
            }
        }
        // Only now, with every live row rewritten: retired segments stay readable (and in the table) until
        // ReleaseRetired, so a reader that loaded an old location a moment ago still finds its segment.
        foreach (int seq in merge) _retired.Add(current[seq]);
        return _segments.Values.Where(s => !_retired.Contains(s)).OrderBy(s => s.Sequence).Select(s => (s.Sequence, s.Rows)).ToArray();
    }

    /// <summary>A segment written by <see cref="PreSeal"/> from the buffer as it was, with the buffer entries it copied.</summary>
    internal sealed record PreSealed(SegmentFile Segment, KeyValuePair<int, BufferedRow>[] Entries);

    /// <summary>
    /// One buffered write: the vector and payload (disk residency), or an empty marker (RAM residency). Never mutated;
    /// a class with reference equality, so its reference identifies the write (two markers are never equal).
    /// </summary>
    internal sealed class BufferedRow(ReadOnlyMemory<float> vector, byte[]? payload)
    {
        public ReadOnlyMemory<float> Vector { get; } = vector;
        public byte[]? Payload { get; } = payload;
    }

    /// <summary>
    /// The slow half of a checkpoint, run while writers continue (no lock): copies every buffered vector into a new
    /// segment. <see cref="Seal"/> then adopts each row whose slot still holds the very write that was copied, and
    /// seals only what changed meanwhile. <paramref name="idOf"/> may race with writers: a row whose slot was
    /// rewritten or freed since is never adopted (its buffer entry is no longer the copied reference).
    /// </summary>
    public PreSealed? PreSeal(Func<int, ulong> idOf)
    {
        if (_directory is null || _buffer.IsEmpty) return null;
        var entries = _buffer.ToArray();
        Array.Sort(entries, (a, b) => a.Key.CompareTo(b.Key));
        // One segment holds at most MaxRows rows; Seal writes the rest (it splits).
        if (entries.Length > SegmentFile.MaxRows) entries = entries[..SegmentFile.MaxRows];
        int seq = _nextSequence++;
        var resident = _resident;
        SegmentFile.Write(_directory, seq, Dimension, entries.Length,
            r => resident is not null ? resident.Get(entries[r].Key) : entries[r].Value.Vector.Span, r => idOf(entries[r].Key),
            r => resident is not null ? ResidentPayload(entries[r].Key) : entries[r].Value.Payload);
        return new PreSealed(SegmentFile.Open(_directory, seq, Dimension, entries.Length, map: resident is null, out _), entries);
    }

    private void Adopt(PreSealed pre, int highWater, Action<int>? relocated)
    {
        var seg = pre.Segment;
        _segments = new Dictionary<int, SegmentFile>(_segments) { [seg.Sequence] = seg };
        var entries = pre.Entries;
        for (int r = 0; r < entries.Length; r++)
        {
            var (slot, copied) = (entries[r].Key, entries[r].Value);
            bool current = slot < highWater && _buffer.TryGetValue(slot, out var now) && ReferenceEquals(now, copied) && _locations[slot] == NoLocation;
            if (!current)
            {
                seg.LiveRows--; // rewritten or freed since the copy: a dead row for a later merge
                continue;
            }
            Volatile.Write(ref _locations[slot], ((long)seg.Sequence << 32) | (uint)r);
            relocated?.Invoke(slot);
            Unbuffer(slot, copied);
        }
    }

    /// <summary>Beyond this many segments the next checkpoint merges the smallest, leaving half as many.</summary>
    public const int MaxSegments = 16;

    private ReadOnlySpan<float> ReadForSeal(int slot)
    {
        if (_resident is not null) return _resident.Get(slot);
        if (_buffer.TryGetValue(slot, out var b)) return b.Vector.Span;
        long loc = _locations[slot];
        return _segments[(int)(loc >> 32)].Row((int)loc);
    }

    // May race with a writer growing the array (PreSeal runs unlocked): an old array gives the old payload, and such a
    // row is never adopted because the writer also replaced the slot's buffer marker.
    private byte[]? ResidentPayload(int slot)
    {
        var payloads = Volatile.Read(ref _residentPayloads);
        return payloads is not null && slot < payloads.Length ? payloads[slot] : null;
    }

    /// <summary>
    /// A slot's location for a snapshot: <c>(sequence &lt;&lt; 32) | row</c>, or -1. Read per slot under the lock that
    /// excludes seals, so a checkpoint that writes only the changed slots' entries copies nothing else.
    /// </summary>
    public long Location(int slot) => _locations[slot];

    /// <summary>File names of the segments the state references.</summary>
    public IEnumerable<string> SegmentFileNames() => _segments.Values.Where(s => !_retired.Contains(s)).Select(s => Path.GetFileName(s.Path));

    /// <summary>Unmaps the segments retired by merges and frees the arena blocks of sealed rows (under the owner's exclusive lock).</summary>
    public void ReleaseRetired()
    {
        // Rows a checkpoint sealed left the buffer: their arena blocks can take new rows (no reader holds one now).
        _arena?.Recycle(_buffer.Values.Select(b => b.Vector).ToArray());
        if (_retired.Count == 0) return;
        var next = new Dictionary<int, SegmentFile>(_segments);
        foreach (var s in _retired) next.Remove(s.Sequence);
        _segments = next;
        foreach (var s in _retired) s.Dispose();
        _retired.Clear();
    }

    /// <summary>
    /// Replaces the (empty) state with a snapshot's segments and per-slot locations, verifying every segment (and,
    /// when resident, every row) and that each live slot's row was written for its id.
    /// </summary>
    public void Restore(IReadOnlyList<(int Sequence, int Rows)> segments, long[] locations, ulong[] ids, Func<int, bool> isLive, string snapshotPath)
    {
        if (_directory is null) throw new InvalidOperationException("an in-memory store has no segments");
        var opened = new Dictionary<int, SegmentFile>();
        var rowIds = new Dictionary<int, ulong[]>();
        try
        {
            foreach (var (seq, rows) in segments)
            {
                opened[seq] = SegmentFile.Open(_directory, seq, Dimension, rows, map: _resident is null, out var segIds);
                rowIds[seq] = segIds;
                opened[seq].LiveRows = 0;
                _nextSequence = Math.Max(_nextSequence, seq + 1);
            }
            if (locations.Length > 0) EnsureCapacity(locations.Length - 1, exact: true);
            for (int s = 0; s < locations.Length; s++)
            {
                long loc = locations[s];
                if (!isLive(s))
                {
                    if (loc != NoLocation) throw new StoreCorruptedException(snapshotPath, $"free slot {s} has a segment location");
                    continue;
                }
                int seq = (int)(loc >> 32), row = (int)loc;
                if (loc == NoLocation || !opened.TryGetValue(seq, out var seg) || row < 0 || row >= seg.Rows)
                    throw new StoreCorruptedException(snapshotPath, $"slot {s} points at segment {seq} row {row}, which does not exist");
                if (rowIds[seq][row] != ids[s])
                    throw new StoreCorruptedException(seg.Path, $"row {row} was written for id {rowIds[seq][row]}, the snapshot expects id {ids[s]}");
                seg.LiveRows++;
                _locations[s] = loc;
            }
            if (_resident is not null)
            {
                var slotOf = new Dictionary<int, int[]>();
                foreach (var seg in opened.Values) slotOf[seg.Sequence] = new int[seg.Rows];
                foreach (var arr in slotOf.Values) Array.Fill(arr, -1);
                for (int s = 0; s < locations.Length; s++)
                    if (locations[s] != NoLocation) slotOf[(int)(locations[s] >> 32)][(int)locations[s]] = s;
                foreach (var seg in opened.Values)
                {
                    var map = slotOf[seg.Sequence];
                    seg.ReadAll((r, v) => { if (map[r] >= 0) _resident.Set(map[r], v); }, r => map[r] >= 0, (r, p) => SetResidentPayload(map[r], p));
                }
            }
            _segments = opened;
        }
        catch
        {
            foreach (var s in opened.Values) s.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Every mapping is closed once (a retired segment stays in the map until ReleaseRetired) even when one before it
        // fails, and the first error is rethrown after the rest.
        var error = Closing.All("closing segment files", _segments.Values.Concat(_retired).Distinct(ReferenceEqualityComparer.Instance).Cast<IDisposable>().ToArray());
        _retired.Clear();
        _segments = [];
        // The buffered rows go too (the owner closes under its exclusive lock, after its last checkpoint): a collection
        // closed to be reopened after running out of memory must not keep up to a checkpoint's worth of rows while its
        // copy replays the same rows.
        _buffer.Clear();
        _arena?.Recycle([]);
        Closing.ThrowIfFailed(error);
    }
}
