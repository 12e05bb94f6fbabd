namespace VectorStore.Server;

/// <summary>
/// The server-wide budget of bytes held by in-flight requests. A connection reserves a request's charge as soon as
/// the frame header announces its size, before the payload is buffered; when the budget is spent it waits (and so
/// stops reading its socket) until earlier requests give their bytes back. Waiters are served first come, first
/// served, so a large request is not starved by a stream of small ones. Responses are charged without waiting
/// (holding a finished result back would not free anything) and push new reads back the same way.
/// </summary>
/// <remarks>
/// Memory a finished request held on the large-object heap is garbage, but it stays resident until a full (gen 2)
/// collection, and the runtime lets hundreds of megabytes of such garbage pile up before it runs one on its own.
/// So bytes released with <c>largeObjects</c> stay charged until a full collection that started after the release has
/// completed (a background one still sweeping has freed nothing yet: counting it at its start let a CI run admit the
/// next 117 MiB request while the last one's arrays were still resident, 40 MiB past a 256 MiB budget); when a waiter
/// could be admitted only by reclaiming them, the budget runs one (on a pool thread, one at a time). The budget then
/// bounds the process's resident memory, not just a count of live requests. Thread-safe.
/// </remarks>
internal sealed class MemoryBudget(long capacity)
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    /// <summary>Large-object bytes released but not yet collected, tagged with the collections started before the release, oldest first.</summary>
    private readonly Queue<Uncollected> _uncollected = new();
    private Uncollected? _newest;
    private long _used;
    private long _uncollectedBytes;
    private bool _collecting;

    /// <summary>Total bytes the budget allows.</summary>
    public long Capacity { get; } = capacity;

    /// <summary>Bytes currently charged, including released large-object bytes not yet collected.</summary>
    public long Used
    {
        get
        {
            lock (_gate)
            {
                ReclaimCollectedLocked();
                return _used;
            }
        }
    }

    /// <summary>
    /// Bytes of requests and responses still in flight or waiting for room: <see cref="Used"/> without the released
    /// large-object garbage, which only a full collection gives back (the idle trim is that collection, so it must
    /// not wait for it).
    /// </summary>
    public long InFlight
    {
        get
        {
            lock (_gate)
            {
                ReclaimCollectedLocked();
                return _used - _uncollectedBytes + (_waiters.Count > 0 ? 1 : 0);
            }
        }
    }

    /// <summary>Full collections this budget ran because garbage stood between a waiter and its reservation.</summary>
    public int InducedCollections { get; private set; }

    /// <summary>Reserves <paramref name="bytes"/> when they fit now and nobody is waiting ahead.</summary>
    public bool TryReserve(long bytes)
    {
        lock (_gate)
        {
            ReclaimCollectedLocked();
            if (_waiters.Count > 0 || _used + bytes > Capacity) return false;
            _used += bytes;
            return true;
        }
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/> (at most <see cref="Capacity"/>), waiting in line until they fit. Cancelling
    /// leaves the line without a reservation.
    /// </summary>
    public async ValueTask ReserveAsync(long bytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Capacity);
        Waiter waiter;
        lock (_gate)
        {
            ReclaimCollectedLocked();
            if (_waiters.Count == 0 && _used + bytes <= Capacity)
            {
                _used += bytes;
                return;
            }
            waiter = new Waiter(bytes);
            waiter.Node = _waiters.AddLast(waiter);
            CollectIfItHelpsLocked();
        }
        await using (ct.Register(() => Cancel(waiter, ct)).ConfigureAwait(false))
            await waiter.Granted.Task.ConfigureAwait(false);
    }

    private void Cancel(Waiter waiter, CancellationToken ct)
    {
        lock (_gate)
        {
            // Already granted: the reservation stands and the awaiting caller owns it.
            if (waiter.Node!.List is null) return;
            _waiters.Remove(waiter.Node);
            AdmitLocked();
        }
        waiter.Granted.TrySetCanceled(ct);
    }

    /// <summary>Charges <paramref name="bytes"/> at once, even beyond the capacity (new reservations then wait).</summary>
    public void Charge(long bytes)
    {
        lock (_gate) _used += bytes;
    }

    /// <summary>
    /// Returns <paramref name="bytes"/> reserved or charged earlier and admits waiters that now fit. With
    /// <paramref name="largeObjects"/> (the request's arrays were on the large-object heap) the bytes come back only
    /// once a full collection has reclaimed them.
    /// </summary>
    public void Release(long bytes, bool largeObjects)
    {
        if (bytes == 0) return;
        lock (_gate)
        {
            if (largeObjects)
            {
                // One entry per collection count, so the queue stays as short as the number of collections awaited.
                int started = GC.CollectionCount(0);
                if (_newest is { } newest && newest.Started == started && _uncollected.Count > 0) newest.Bytes += bytes;
                else _uncollected.Enqueue(_newest = new Uncollected(started) { Bytes = bytes });
                _uncollectedBytes += bytes;
            }
            else
            {
                _used -= bytes;
            }
            AdmitLocked();
        }
    }

    /// <summary>
    /// Admits the waiters that fit now and, when the first one is held back only by released large-object bytes a
    /// collection has not reclaimed yet, starts that collection. Every release and cancellation ends here: one that
    /// only granted could leave a waiter behind uncollected garbage with no collection coming, and every later
    /// request queues behind it (a reservation never jumps the line), so the server stopped answering for good.
    /// </summary>
    private void AdmitLocked()
    {
        ReclaimCollectedLocked();
        GrantLocked();
        CollectIfItHelpsLocked();
    }

    /// <summary>Gives back the bytes of entries released before a full collection that has since completed.</summary>
    private void ReclaimCollectedLocked()
    {
        if (_uncollected.Count == 0) return;
        // A collection's index is the count of collections (every one counts in gen 0) once it started; the last
        // completed full one, blocking or background, reclaimed what was released before it started.
        long completed = Math.Max(GC.GetGCMemoryInfo(GCKind.FullBlocking).Index, GC.GetGCMemoryInfo(GCKind.Background).Index);
        while (_uncollected.TryPeek(out var e) && e.Started < completed)
        {
            _uncollected.Dequeue();
            _uncollectedBytes -= e.Bytes;
            _used -= e.Bytes;
        }
    }

    /// <summary>Starts a full collection when the first waiter is held back by garbage rather than by live requests.</summary>
    private void CollectIfItHelpsLocked()
    {
        if (_collecting || _waiters.First is not { } first || _uncollectedBytes == 0) return;
        if (_used - _uncollectedBytes + first.Value.Bytes > Capacity) return;
        _collecting = true;
        InducedCollections++;
        ThreadPool.UnsafeQueueUserWorkItem(static budget => budget.Collect(), this, preferLocal: false);
    }

    private void Collect()
    {
        try
        {
            // Blocking so the bytes are free when it returns; large-object garbage is only collected in gen 2.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        }
        finally
        {
            lock (_gate)
            {
                _collecting = false;
                AdmitLocked();
            }
        }
    }

    private void GrantLocked()
    {
        while (_waiters.First is { } first && _used + first.Value.Bytes <= Capacity)
        {
            _waiters.RemoveFirst();
            _used += first.Value.Bytes;
            // Continuations run asynchronously (see Waiter), so nothing runs under the lock.
            first.Value.Granted.TrySetResult();
        }
    }

    private sealed class Uncollected(int started)
    {
        /// <summary>Collections started before the release (<c>GC.CollectionCount(0)</c>).</summary>
        public int Started { get; } = started;

        public long Bytes { get; set; }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
