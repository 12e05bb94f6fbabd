using System.Runtime.CompilerServices;

namespace VectorStore.Storage;

/// <summary>
/// Reading the log back, proving continuity as it goes. FASTER 2.6.5's scan (FasterLogScanIterator.GetNextInternal)
/// reads a zero length field as "the rest of this page is padding" and jumps to the next page; at a page's first
/// byte it means the end. That rule is right for the padding FASTER writes (an entry that does not fit in what is
/// left of a page starts the next one, and a commit may end at that page boundary), and silently drops entries when
/// damage zeroes a length field. So every entry carries a sequence number and a chained checksum
/// (<see cref="LogFraming"/>); the scan starts at the begin address the durable-tail record anchors, checks that
/// each entry continues the one before, and, at the end, that it reached the last entry the durable-tail record
/// says was acknowledged. A jump is a <see cref="StoreCorruptedException"/> naming the segment file and offset.
/// </summary>
internal sealed partial class FasterWriteAheadLog
{
    private readonly object _recoveryGate = new();

    /// <inheritdoc />
    public IEnumerable<LogEntry> Scan(long from, long until) => _framed ? ScanFramed(from, until, replay: true) : ScanUnframed(from, until);

    /// <summary>
    /// Set while a replay's scan recovers the chain (the first scan after opening, which re-appends what it read past
    /// FASTER's committed address when it ends). An append meanwhile would start a second recovery inside it and move
    /// the tail under the first (<see cref="EnsureChain"/> refuses instead).
    /// </summary>
    private volatile bool _replayRecovering;

    /// <summary>A previous-format log: FASTER's scan as it is, with only the check that it reached the durable address.</summary>
    private IEnumerable<LogEntry> ScanUnframed(long from, long until)
    {
        var end = new StrongBox<long>(from);
        foreach (var e in FasterEntries(from, until, end)) yield return e;
        CheckReached(end.Value, until);
    }

    private IEnumerable<LogEntry> ScanFramed(long from, long until, bool replay)
    {
        if (from < _anchorBegin)
            throw new StoreCorruptedException(_tail.Path, $"replay starts at address {from}, before the log's recorded begin {_anchorBegin}: its entries cannot be verified");
        // The first scan after opening covers the whole durable log and establishes where appends continue.
        bool recovering = !_chainKnown && until >= CommittedAddress;
        bool guarded = recovering && replay;
        if (guarded) _replayRecovering = true;
        try
        {
            var at = _anchor;
            long good = _anchorBegin; // where the last verified entry ends
            var end = new StrongBox<long>(_anchorBegin);
            foreach (var e in FasterEntries(_anchorBegin, until, end))
            {
                at = Verify(e.Data, e.Address, at, good);
                good = e.NextAddress;
                if (e.Address >= from) yield return e with { Data = e.Data[LogFraming.EnvelopeSize..] };
            }
            CheckReached(end.Value, until);
            var atCommitted = at; // the chain position at FASTER's committed address
            List<(long Address, byte[] Entry, LogFraming.Point After)>? past = null;
            if (recovering)
            {
                // FASTER scans only to its committed address. Entries written past it are still in the segment when the
                // newest commit slot was lost, or when pages were flushed before a crash; each that continues the chain
                // is as complete and checked as any other, so recovery reads on while they do.
                foreach (var r in LogFraming.ReadPast(SegmentPath, _settings, end.Value))
                {
                    if (!LogFraming.Continues(r.Entry, at, out var after)) break;
                    CheckAgainstDurable(after, r.Address);
                    at = after;
                    good = r.Next;
                    (past ??= []).Add((r.Address, r.Entry, after));
                    if (r.Address >= from) yield return new LogEntry(r.Address, r.Entry[LogFraming.EnvelopeSize..], r.Next);
                }
            }
            if (at.Sequence < _durablePoint.Sequence) throw Shortfall(at, good);
            if (recovering)
            {
                // wal.tail lags FASTER's metadata when its write failed (or a crash came between the two): the durable
                // point must be the chain position at FASTER's committed address, or a reset before the next published
                // commit would continue the chain from the older point and reuse sequence numbers the kept entries carry.
                lock (_unsyncedGate) if (atCommitted.Sequence > _durablePoint.Sequence) _durablePoint = atCommitted;
                FinishRecovery(at, past);
            }
        }
        finally
        {
            if (guarded) _replayRecovering = false;
        }
    }

    /// <summary>Entries FASTER's iterator returns in [<paramref name="from"/>, <paramref name="until"/>); <paramref name="end"/> receives where it stopped.</summary>
    private IEnumerable<LogEntry> FasterEntries(long from, long until, StrongBox<long> end)
    {
        using var it = _log.Scan(from, until);
        long read = from; // the end of the last entry read: the damage lies between it and where the scan failed
        while (true)
        {
            byte[] entry;
            int length;
            long address, next;
            try
            {
                if (!it.GetNext(out entry, out length, out address, out next))
                {
                    // Past trailing page padding the iterator's next address is the following page's start (which
                    // may be the durable address itself: a commit can end right at a page boundary).
                    end.Value = it.NextAddress;
                    yield break;
                }
            }
            catch (Exception e) when (e is not VectorStoreException and not OutOfMemoryException)
            {
                throw Unreadable(read, it.NextAddress, e);
            }
            read = next;
            if (length != entry.Length) Array.Resize(ref entry, length);
            yield return new LogEntry(address, entry, next);
        }
    }

    /// <summary>
    /// The refusal for a scan whose iterator threw with its next address at <paramref name="next"/>, after reading
    /// entries up to <paramref name="read"/>. FASTER moves its next address before it throws: past the page for an
    /// uninitialized page or a failed page read, past the entry's header for a bad length or checksum. The byte before
    /// it lies on the page that failed; its segment is the file to name (for a segment's last page, <paramref name="next"/>
    /// itself is in the next segment: a segment cut short was blamed on the one after it).
    /// </summary>
    private StoreCorruptedException Unreadable(long read, long next, Exception e)
    {
        long failed = Math.Max(read, next - 1);
        return new StoreCorruptedException(SegmentPath(failed),
            $"log entries after address {read} are unreadable near address {failed} (offset {Offset(failed)}): {e.Message}", e);
    }

    private void CheckReached(long reached, long until)
    {
        if (reached < until)
            throw new StoreCorruptedException(SegmentPath(reached), $"log scan stopped at address {reached}, before the durable address {until}");
    }

    /// <summary>Checks that the entry at <paramref name="address"/> continues the chain at <paramref name="at"/>; returns the position after it.</summary>
    private LogFraming.Point Verify(byte[] entry, long address, LogFraming.Point at, long good)
    {
        if (LogFraming.Continues(entry, at, out var after))
        {
            CheckAgainstDurable(after, address);
            return after;
        }
        ulong seq = LogFraming.SequenceOf(entry);
        if (seq > at.Sequence)
            throw new StoreCorruptedException(SegmentPath(good),
                $"log entries {at.Sequence} to {seq - 1} are missing: the scan jumped from address {good} (offset {Offset(good)}) to the entry at {address} " +
                "(a damaged length field or a zeroed block reads as page padding to FASTER)");
        throw new StoreCorruptedException(SegmentPath(address), seq == at.Sequence
            ? $"the entry at address {address} (offset {Offset(address)}) fails its chained checksum (entry {seq} damaged)"
            : $"the entry at address {address} (offset {Offset(address)}) does not continue the log: it carries sequence {seq} where {at.Sequence} was expected");
    }

    /// <summary>The entry that reaches the recorded durable position must be the one that was acknowledged there.</summary>
    private void CheckAgainstDurable(LogFraming.Point after, long address)
    {
        if (after.Sequence == _durablePoint.Sequence && after.Chain != _durablePoint.Chain)
            throw new StoreCorruptedException(_tail.Path,
                $"the log's entry {after.Sequence - 1} at address {address} is not the one the durable-tail record acknowledged (chain value {after.Chain:x8}, recorded {_durablePoint.Chain:x8})");
    }

    private StoreCorruptedException Shortfall(LogFraming.Point at, long good)
    {
        ulong missing = _durablePoint.Sequence - at.Sequence;
        string where = $"the log's entries end at sequence {at.Sequence - 1} (address {good}, offset {Offset(good)} of {Path.GetFileName(SegmentPath(good))}), " +
            $"but entries up to {_durablePoint.Sequence - 1} were acknowledged as durable ({missing} missing); refusing to open with less data";
        return CommittedAddress < _recordedDurable
            ? new StoreCorruptedException(NewestCommitFile() ?? _tail.Path,
                $"FASTER recovered the log only up to address {CommittedAddress}, but {_recordedDurable} was acknowledged as durable (commit metadata damaged or lost), and {where}")
            : new StoreCorruptedException(SegmentPath(good), where);
    }

    /// <summary>
    /// After the first full scan: entries read past FASTER's committed address are appended again (at the same
    /// addresses: FASTER lays out equal sizes from an equal tail identically) and committed, so the log holds what
    /// was replayed; appends then continue the chain at <paramref name="at"/>.
    /// </summary>
    private void FinishRecovery(LogFraming.Point at, List<(long Address, byte[] Entry, LogFraming.Point After)>? past)
    {
        if (past is not null && !_readOnly)
        {
            lock (_appendGate)
            {
                foreach (var (address, entry, after) in past)
                {
                    long placed = _log.Enqueue(entry);
                    if (placed != address)
                        throw new StoreCorruptedException(SegmentPath(address),
                            $"the entry read past the committed address at {address} was appended again at {placed}; refusing to commit a log whose layout moved");
                    lock (_unsyncedGate) _unsynced.Enqueue((address + LogFraming.FasterHeaderSize + LogFraming.Align(entry.Length), after));
                }
            }
            Commit();
        }
        lock (_appendGate) _next = at;
        Volatile.Write(ref _chainKnown, true);
        lock (_boundaryGate) _boundaries.Add((_log.TailAddress, at));
    }

    /// <summary>Verifies the whole log (and recovers past FASTER's committed address) before the first append, if replay has not.</summary>
    private void EnsureChain()
    {
        if (Volatile.Read(ref _chainKnown)) return;
        if (_replayRecovering)
            throw new InvalidOperationException(
                "an entry was appended (or a checkpoint started) while the log is being replayed at open; nothing may write to it before the replay has finished recovering it");
        lock (_recoveryGate)
        {
            if (_chainKnown) return;
            foreach (var _ in ScanFramed(_anchorBegin, CommittedAddress, replay: false)) { }
        }
    }

    /// <summary>
    /// Whether a framed log in <paramref name="directory"/> holds an entry continuing the chain past the durable
    /// address <paramref name="tail"/> records (read straight from the segment, without opening FASTER).
    /// </summary>
    public static bool HasEntriesPast(string directory, WalSettings settings, TailRecord tail)
    {
        if (!tail.Framed) return false;
        foreach (var r in LogFraming.ReadPast(a => SegmentPathIn(directory, settings, a), settings, tail.Durable)) return LogFraming.Continues(r.Entry, tail.DurablePoint, out _);
        return false;
    }

    private long Offset(long address) => Math.Max(0, address) & ((1L << _settings.SegmentSizeBits) - 1);
}
