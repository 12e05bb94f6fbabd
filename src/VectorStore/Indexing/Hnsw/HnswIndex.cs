using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using VectorStore.Distance;
using VectorStore.Memory;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Hnsw;

/// <summary>
/// Multi-layer HNSW graph (<c>hnsw:M[,EFC]</c>) walked on the collection's compressed codes with the codec's
/// traversal scorer (<see cref="VectorCodec.CreateTraversalScorer"/>; for sq8 a symmetric int8 kernel), which also
/// gives the node-to-node distances of construction. The collection re-ranks the returned candidates on
/// full-precision vectors.
/// </summary>
/// <remarks>
/// <para>Layout: nodes are dense internal ids, separate from the collection's slots so that a deleted node can stay
/// navigable until it is unlinked while its slot is already reused. Codes and layer-0 links (count + 2M ids per node)
/// are chunked arrays indexed by node (8 MiB chunks, so growing copies one chunk, not the whole graph); levels and
/// versions are flat arrays; links above layer 0 are blocks of (count + M ids) per level in one pooled array. No
/// per-node objects.</para>
/// <para>Reachability: every live node keeps a way in on layer 0. A node a back link's pruning leaves with no
/// neighbour linking back is linked again at once, and a full pass (a walk of layer 0 from the entry point) links any
/// node still cut off after every hundredth of the graph inserted (at least 256 nodes) and after each consolidation
/// (HnswIndex.Reachability.cs). Without it about one node in 300 of SIFT could never be returned. Reachable means
/// from the entry point on layer 0. The passes make the graph depend on how inserts are grouped: <see cref="Add"/> in
/// a loop and one <see cref="AddBatch"/> of the same rows give different (equally good) graphs.</para>
/// <para>Thread-safety: the index is safe on its own. <see cref="Add"/>, <see cref="AddBatch"/>, <see cref="Remove"/>
/// and <see cref="Search"/> may run concurrently from any threads (operations on the same slot must be ordered by the
/// caller, as the collection does). Each node has a version word used as a seqlock:
/// writers lock one node at a time (odd version) while they rewrite its links; readers copy a link list and retry when
/// the version moved, so they never see a torn list. A node's code is written before any link points to it. Growing
/// the arrays and consolidating deletions (relinking around deleted nodes, then recycling them) take an exclusive
/// lock, briefly pausing other operations. Writing an image of the graph (<see cref="Write"/>, change images) makes
/// mutations wait but not searches. Removal is immediate for results (a deleted node is never returned once
/// <see cref="Remove"/> has returned); its neighbours are relinked in batches once deleted nodes exceed
/// <see cref="ConsolidateFraction"/> of the live ones, so tombstones stay bounded.</para>
/// <para>Determinism: the same seed and insertion order give the same graph when built on one thread
/// (<c>AddBatch(..., threads: 1)</c>); parallel builds are equally good but not bit-identical.</para>
/// </remarks>
public sealed partial class HnswIndex : VectorIndex
{
    /// <summary>Default beam width of a search when <see cref="IndexSearchParameters.Ef"/> is 0.</summary>
    public const int DefaultEf = 64;

    /// <summary>Default construction beam width.</summary>
    public const int DefaultEfConstruction = 128;

    /// <summary>Deleted nodes are relinked and recycled once they exceed this fraction of live nodes.</summary>
    public const double ConsolidateFraction = 0.05;

    private const int MaxLevels = 16;
    private const byte StateFree = 0;
    private const byte StateLive = 1;
    private const byte StateDead = 2;

    private readonly int _m;
    private readonly int _m0;
    private readonly int _efc;
    private readonly int _seed;
    private readonly double _levelMult;
    private readonly int _codeSize;
    private readonly int _stride0;
    private readonly int _strideUp;
    private readonly ReaderWriterLockSlim _structure = new(LockRecursionPolicy.NoRecursion);
    // Mutations (insert, remove, consolidate, growth) hold this shared; writing an image of the graph holds it
    // exclusively, and the structure lock only shared, so searches keep running while a checkpoint writes the graph.
    private readonly ReaderWriterLockSlim _mutation = new(LockRecursionPolicy.NoRecursion);
    private readonly object _alloc = new();
    private readonly object _entryLock = new();
    private readonly ThreadLocal<HnswScratch> _scratch;
    private readonly Stack<int> _freeNodes = new();
    private readonly Stack<int>[] _freeBlocks;

    // Chunked, not one array each: growing copies the last chunk only, so a build does not hold the old and the new
    // copy of every code at once (ChunkedArray).
    private readonly ChunkedArray<byte> _codes;
    private readonly ChunkedArray<int> _links0;
    private int[] _version;
    private byte[] _level;
    private byte[] _state;
    private int[] _nodeSlot;
    private int[] _upperOffset;
    private int[] _upperPool;
    private int[] _slotNode;
    private int _upperUsed;
    private int _nodeCapacity;
    private int _nodeHigh;
    private int _slotHigh;
    private long _entry = -1;
    private int _liveCount;
    private int _deadCount;
    private long _inserted;

    /// <summary>Creates an empty graph over <paramref name="codec"/>.</summary>
    /// <param name="codec">Trained codec whose codes the graph stores and walks.</param>
    /// <param name="kind">Distance (lower is better).</param>
    /// <param name="m">Links per node above layer 0 (2M on layer 0); 2..255.</param>
    /// <param name="efConstruction">Construction beam width; at least <paramref name="m"/>.</param>
    /// <param name="seed">Seed of the level draws.</param>
    /// <param name="initialCapacity">Nodes to reserve.</param>
    public HnswIndex(VectorCodec codec, DistanceKind kind, int m = 16, int efConstruction = DefaultEfConstruction, int seed = 42, int initialCapacity = 1024)
        : this(codec, kind, m, efConstruction, seed, initialCapacity, ChunkBytes)
    {
    }

    /// <summary>As the public constructor, with chunks of codes and links of at most <paramref name="chunkBytes"/> (tests cross chunk ends with small ones).</summary>
    internal HnswIndex(VectorCodec codec, DistanceKind kind, int m, int efConstruction, int seed, int initialCapacity, int chunkBytes)
    {
        if (m is < 2 or > 255) throw new InvalidArgumentException($"hnsw: M must be in 2..255, got {m}");
        if (efConstruction < m) throw new InvalidArgumentException($"hnsw: EFC ({efConstruction}) must be at least M ({m})");
        Codec = codec;
        DistanceKind = kind;
        _m = m;
        _m0 = 2 * m;
        _efc = efConstruction;
        _seed = seed;
        _levelMult = 1 / Math.Log(m);
        _codeSize = codec.CodeSize;
        _stride0 = 1 + _m0;
        _strideUp = 1 + _m;
        _freeBlocks = new Stack<int>[MaxLevels];
        for (int i = 0; i < MaxLevels; i++) _freeBlocks[i] = new Stack<int>();
        int cap = Math.Min(Math.Max(16, initialCapacity), MaxSlots);
        _codes = new ChunkedArray<byte>(_codeSize, chunkBytes);
        _codes.Reserve(cap);
        _links0 = new ChunkedArray<int>(_stride0, chunkBytes);
        _links0.Reserve(cap);
        _version = new int[cap];
        _level = new byte[cap];
        _state = new byte[cap];
        _nodeSlot = new int[cap];
        _upperOffset = new int[cap];
        _upperPool = new int[Math.Max(64, cap / 8 * _strideUp)];
        _slotNode = new int[cap];
        _slotNode.AsSpan().Fill(-1);
        _nodeCapacity = cap;
        _scratch = new ThreadLocal<HnswScratch>(() => new HnswScratch(codec, kind));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Codes and level-0 links are chunked; levels, versions and slots are one array each, indexed by node, and the links
    /// above layer 0 share one array: a node holds (M + 1) ints per upper level and 1/(M − 1) upper levels on average,
    /// so nodes are bounded at half of what would fill that array on average (about 946M nodes at M = 16), and a batch
    /// past it is refused before it is logged rather than failing when it is applied.
    /// </remarks>
    protected override int ArraySlots => (int)Math.Min(Array.MaxLength, Array.MaxLength / Math.Max(1.0, 2.0 * _strideUp / (_m - 1)));

    /// <summary>Bytes of a full chunk of codes or of level-0 links: a growing chunk is copied, so this bounds a growth's transient copy.</summary>
    internal const int ChunkBytes = 8 << 20;

    /// <inheritdoc />
    /// <remarks>
    /// Every row of a batch, new or a replacement, takes a node; a replaced or deleted row's node stays dead until a
    /// consolidation recycles it. So the node high-water mark after the batch must fit: the nodes in use (live and
    /// dead) plus the batch, less the recycled nodes waiting for reuse.
    /// </remarks>
    public override void CheckRoom(long highWater, int rows)
    {
        base.CheckRoom(highWater, rows);
        long nodes = NodeHighWaterAfter(rows);
        if (nodes > MaxSlots)
            throw CapacityError(nodes, "its links above layer 0 are one array, and replaced or deleted rows keep their nodes until a consolidation recycles them");
    }

    /// <summary>The node high-water mark once <paramref name="rows"/> more nodes are allocated: recycled nodes are handed out first.</summary>
    private long NodeHighWaterAfter(int rows)
    {
        lock (_alloc) return _nodeHigh + Math.Max(0L, (long)rows - _freeNodes.Count);
    }

    /// <inheritdoc />
    public override string Spec => _efc == DefaultEfConstruction ? $"hnsw:{_m}" : $"hnsw:{_m},{_efc}";

    /// <inheritdoc />
    public override string Kind => "hnsw";

    /// <inheritdoc />
    public override VectorCodec Codec { get; }

    /// <inheritdoc />
    public override DistanceKind DistanceKind { get; }

    /// <inheritdoc />
    public override bool SupportsConcurrentSearch => true;

    /// <summary>Links per node above layer 0.</summary>
    public int M => _m;

    /// <summary>Construction beam width.</summary>
    public int EfConstruction => _efc;

    /// <inheritdoc />
    public override int Count => Volatile.Read(ref _liveCount);

    /// <summary>Deleted nodes still in the graph, waiting to be relinked and recycled.</summary>
    public int DeletedPending => Volatile.Read(ref _deadCount);

    /// <summary>Node ids ever used (live, deleted-pending and free): the size the per-node arrays must cover.</summary>
    public int NodeHighWater => Volatile.Read(ref _nodeHigh);

    /// <summary>Bytes per node of codes, layer-0 links and per-node metadata (upper layers are counted separately).</summary>
    private int NodeBytes => _codeSize + _stride0 * sizeof(int) + sizeof(int) * 3 + 2;

    /// <inheritdoc />
    /// <remarks>Counts the nodes in use (live, pending deletion, free for reuse), not spare array capacity.</remarks>
    public override long MemoryBytes
    {
        get
        {
            _structure.EnterReadLock();
            try
            {
                return (long)_nodeHigh * NodeBytes + (long)_upperUsed * sizeof(int) + (long)_slotHigh * sizeof(int) + Codec.ParameterBytes;
            }
            finally { _structure.ExitReadLock(); }
        }
    }

    private int MaxDegree(int level) => level == 0 ? _m0 : _m;

    // ---------------------------------------------------------------- node locking (seqlock)

    private void LockNode(int node)
    {
        MarkChanged(node);
        ref int v = ref _version[node];
        var spin = new SpinWait();
        while (true)
        {
            int cur = Volatile.Read(ref v);
            if ((cur & 1) == 0 && Interlocked.CompareExchange(ref v, cur + 1, cur) == cur) return;
            spin.SpinOnce(-1);
        }
    }

    private void UnlockNode(int node)
    {
        ref int v = ref _version[node];
        Volatile.Write(ref v, v + 1);
    }

    /// <summary>The link block of <paramref name="node"/> at <paramref name="level"/>: the count, then up to <see cref="MaxDegree"/> node ids.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<int> Links(int node, int level) =>
        level == 0 ? _links0[node] : _upperPool.AsSpan(_upperOffset[node] + (level - 1) * _strideUp, _strideUp);

    /// <summary>Copies the links of <paramref name="node"/> at <paramref name="level"/>; consistent under concurrent writers.</summary>
    private int ReadLinks(int node, int level, int[] buffer)
    {
        ref int v = ref _version[node];
        int max = MaxDegree(level);
        var spin = new SpinWait();
        while (true)
        {
            int before = Volatile.Read(ref v);
            if ((before & 1) == 0)
            {
                var links = Links(node, level);
                int n = links[0];
                if ((uint)n <= (uint)max)
                {
                    links.Slice(1, n).CopyTo(buffer);
                    Interlocked.MemoryBarrier();
                    if (Volatile.Read(ref v) == before) return n;
                }
            }
            spin.SpinOnce(-1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> CodeOf(int node) => _codes[node];

    /// <summary>
    /// Asks for every cache line of a node's code. The walk is bound by memory latency, not arithmetic: issuing the
    /// loads of all unvisited neighbours before scoring any of them overlaps their misses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Prefetch(int node) =>
        CachePrefetch.ToL1(ref _codes.First(node), _codeSize);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchLinks(int node, int level)
    {
        if (Sse.IsSupported && level == 0)
        {
            int* p = (int*)Unsafe.AsPointer(ref _links0.First(node));
            for (int off = 0; off < _stride0; off += 16) Sse.Prefetch0(p + off);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(int node, SlotFilter? filter) =>
        Volatile.Read(ref _state[node]) == StateLive && (filter is null || filter.Contains(_nodeSlot[node]));

    // ---------------------------------------------------------------- levels and allocation

    private int DrawLevel()
    {
        ulong x = (ulong)Interlocked.Increment(ref _inserted) + (ulong)(uint)_seed * 0x9E3779B97F4A7C15UL;
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27; x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        double u = ((x >> 11) + 1) * (1.0 / 9007199254740993.0);
        return Math.Min(MaxLevels - 1, (int)(-Math.Log(u) * _levelMult));
    }

    private (int Node, int Offset) AllocateNode(int level, int slot)
    {
        int node, offset = -1, pool = 0;
        lock (_alloc)
        {
            node = _freeNodes.Count > 0 ? _freeNodes.Pop() : _nodeHigh++;
            if (level > 0)
            {
                var blocks = _freeBlocks[level];
                if (blocks.Count > 0) offset = blocks.Pop();
                else
                {
                    offset = _upperUsed;
                    _upperUsed += level * _strideUp;
                }
                pool = offset + level * _strideUp;
            }
        }
        EnsureCapacity(node + 1, pool, slot + 1);
        return (node, offset);
    }

    private void EnsureCapacity(int nodes, int pool, int slots)
    {
        if (nodes <= Volatile.Read(ref _nodeCapacity) && pool <= Volatile.Read(ref _upperPool).Length && slots <= Volatile.Read(ref _slotNode).Length)
            return;
        _structure.EnterWriteLock();
        try
        {
            if (nodes > _nodeCapacity)
            {
                int max = MaxSlots;
                if (nodes > max) throw CapacityError(nodes, "its links above layer 0 are one array");
                // The per-node arrays here are small (14 bytes a node) and grow by half again; the codes and links grow
                // chunk by chunk, by their own rule.
                int cap = (int)Math.Min(max, Math.Max(nodes, _nodeCapacity + (long)(_nodeCapacity / 2)));
                _codes.EnsureCapacity(nodes);
                _links0.EnsureCapacity(nodes);
                Array.Resize(ref _version, cap);
                Array.Resize(ref _level, cap);
                Array.Resize(ref _state, cap);
                Array.Resize(ref _nodeSlot, cap);
                Array.Resize(ref _upperOffset, cap);
                GrowChangeBits(cap);
                _nodeCapacity = Math.Min(cap, Math.Min(_codes.Capacity, _links0.Capacity));
            }
            if (pool > _upperPool.Length)
            {
                if (pool > Array.MaxLength) throw CapacityError(nodes, "its upper-layer links are one array");
                Array.Resize(ref _upperPool, (int)Math.Min(Array.MaxLength, Math.Max(pool, 2L * _upperPool.Length)));
            }
            if (slots > _slotNode.Length)
            {
                int old = _slotNode.Length;
                Array.Resize(ref _slotNode, (int)Math.Min(Array.MaxLength, Math.Max(slots, old + (long)(old / 2))));
                _slotNode.AsSpan(old).Fill(-1);
            }
        }
        finally { _structure.ExitWriteLock(); }
    }

    private static long PackEntry(int level, int node) => ((long)level << 32) | (uint)node;

    // ---------------------------------------------------------------- public mutation API

    /// <inheritdoc />
    public override void Add(int slot, ReadOnlySpan<float> vector)
    {
        AddOne(slot, vector);
        AfterInserts(1);
    }

    private void AddOne(int slot, ReadOnlySpan<float> vector)
    {
        if (slot < 0) throw new InvalidArgumentException($"slot must not be negative, got {slot}");
        if (vector.Length != Codec.Dimension) throw new InvalidVectorException($"expected dimension {Codec.Dimension}, got {vector.Length}");
        Remove(slot);
        _mutation.EnterReadLock();
        try
        {
            int level = DrawLevel();
            var (node, offset) = AllocateNode(level, slot);
            _structure.EnterReadLock();
            try
            {
                Insert(node, offset, level, slot, vector, _scratch.Value!);
            }
            finally { _structure.ExitReadLock(); }
        }
        finally { _mutation.ExitReadLock(); }
    }

    /// <inheritdoc />
    /// <remarks>Inserts on <paramref name="threads"/> threads (0 = all cores) with per-node locking.</remarks>
    public override void AddBatch(ReadOnlySpan<int> slots, VectorMatrix vectors, int threads)
    {
        if (slots.Length != vectors.Count) throw new InvalidArgumentException($"{slots.Length} slots for {vectors.Count} vectors");
        if (slots.Length == 0) return;
        if (vectors.Dimension != Codec.Dimension) throw new InvalidVectorException($"expected dimension {Codec.Dimension}, got {vectors.Dimension}");
        int maxSlot = 0;
        foreach (int s in slots) maxSlot = Math.Max(maxSlot, s);
        long nodes = NodeHighWaterAfter(slots.Length);
        _mutation.EnterReadLock();
        try { EnsureCapacity((int)Math.Min(int.MaxValue, nodes), 0, maxSlot + 1); }
        finally { _mutation.ExitReadLock(); }
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        if (workers == 1 || slots.Length < 64)
        {
            for (int i = 0; i < slots.Length; i++) AddOne(slots[i], vectors.Row(i));
            AfterInserts(slots.Length);
            return;
        }
        var slotArray = slots.ToArray();
        // The first few hundred nodes go in sequentially so parallel inserts start from a connected core graph.
        int warm = Math.Min(slotArray.Length, 256);
        for (int i = 0; i < warm; i++) AddOne(slotArray[i], vectors.Row(i));
        int next = warm - 1;
        var workersList = new Thread[workers];
        Exception? failure = null;
        for (int t = 0; t < workers; t++)
        {
            workersList[t] = new Thread(() =>
            {
                try
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < slotArray.Length) AddOne(slotArray[i], vectors.Row(i));
                }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
            }) { IsBackground = true, Name = "hnsw-build" };
            workersList[t].Start();
        }
        foreach (var w in workersList) w.Join();
        if (failure is not null) throw new AggregateException("hnsw: parallel insert failed", failure);
        AfterInserts(slots.Length);
    }

    /// <inheritdoc />
    public override void Remove(int slot)
    {
        int dead;
        _mutation.EnterReadLock();
        _structure.EnterReadLock();
        try
        {
            if ((uint)slot >= (uint)_slotNode.Length) return;
            int node = Interlocked.Exchange(ref _slotNode[slot], -1);
            if (node < 0) return;
            MarkChanged(node);
            Volatile.Write(ref _state[node], StateDead);
            Interlocked.Decrement(ref _liveCount);
            dead = Interlocked.Increment(ref _deadCount);
        }
        finally
        {
            _structure.ExitReadLock();
            _mutation.ExitReadLock();
        }
        if (dead > ConsolidateThreshold()) Consolidate();
    }

    private int ConsolidateThreshold() => Math.Max(32, (int)(Volatile.Read(ref _liveCount) * ConsolidateFraction));

    // ---------------------------------------------------------------- insertion

    private void Insert(int node, int offset, int level, int slot, ReadOnlySpan<float> vector, HnswScratch s)
    {
        MarkRewritten(node);
        LockNode(node);
        Codec.Encode(vector, _codes[node]);
        _level[node] = (byte)level;
        _upperOffset[node] = offset;
        _nodeSlot[node] = slot;
        _links0[node][0] = 0;
        for (int l = 1; l <= level; l++) _upperPool[offset + (l - 1) * _strideUp] = 0;
        UnlockNode(node);
        Volatile.Write(ref _state[node], StateLive);
        Volatile.Write(ref _slotNode[slot], node);
        if (slot >= _slotHigh) InterlockedMax(ref _slotHigh, slot + 1);
        Interlocked.Increment(ref _liveCount);

        long entry = Volatile.Read(ref _entry);
        if (entry < 0)
        {
            lock (_entryLock)
            {
                entry = _entry;
                if (entry < 0)
                {
                    Volatile.Write(ref _entry, PackEntry(level, node));
                    return;
                }
            }
        }
        s.Scorer.SetQuery(vector);
        s.Dropped.Clear();
        Connect(s.Scorer, node, level, entry, s);
        KeepReachable(s);
        if (level > (int)(entry >> 32))
        {
            lock (_entryLock)
            {
                if (level > (int)(_entry >> 32)) Volatile.Write(ref _entry, PackEntry(level, node));
            }
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int cur;
        while ((cur = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, cur) != cur) { }
    }

    private void Connect(CodeScorer dist, int node, int level, long entry, HnswScratch s)
    {
        int maxLevel = (int)(entry >> 32);
        int cur = Descend(dist, entry, level, out float curDist, s);
        s.EnsureLinks(_m0 + 1);
        Span<int> targets = stackalloc int[_m];
        for (int l = Math.Min(level, maxLevel); l >= 0; l--)
        {
            NewLayerSearch(s);
            s.Visit(node);
            Seed(cur, curDist, null, s, requireLive: true);
            Beam(dist, l, _efc, null, s);
            int n = s.Top.Count;
            if (n == 0) continue;
            s.EnsureCandidates(n);
            s.Top.Nodes.CopyTo(s.Ids);
            s.Top.Distances.CopyTo(s.Dists);
            var ids = s.Ids.AsSpan(0, n);
            var dists = s.Dists.AsSpan(0, n);
            dists.Sort(ids);
            cur = ids[0];
            curDist = dists[0];
            int chosen = SelectNeighbors(ids, dists, _m, s);
            var sel = s.Selected.AsSpan(0, chosen);
            LockNode(node);
            var links = Links(node, l);
            sel.CopyTo(links.Slice(1, chosen));
            links[0] = chosen;
            UnlockNode(node);
            // Back links: sel is overwritten by the neighbour-side selection, so copy it first.
            sel.CopyTo(targets);
            foreach (int t in targets[..chosen]) LinkBack(t, node, l, s);
        }
    }

    /// <summary>The greedy descent from the entry point through the layers above <paramref name="level"/>: where a beam on that layer starts.</summary>
    private int Descend(CodeScorer dist, long entry, int level, out float curDist, HnswScratch s)
    {
        int cur = (int)entry;
        curDist = dist.Distance(CodeOf(cur));
        for (int l = (int)(entry >> 32); l > level; l--) cur = Greedy(dist, cur, ref curDist, l, s);
        return cur;
    }

    /// <summary>A fresh visited set and empty heaps for the next layer search.</summary>
    private void NewLayerSearch(HnswScratch s)
    {
        s.NewVisit(_nodeCapacity);
        s.Candidates.Clear();
        s.Top.Clear();
    }

    private int Greedy(CodeScorer dist, int cur, ref float curDist, int level, HnswScratch s)
    {
        s.EnsureLinks(_m0 + 1);
        var buf = s.Links;
        bool changed = true;
        while (changed)
        {
            changed = false;
            int n = ReadLinks(cur, level, buf);
            for (int i = 0; i < n; i++)
            {
                int nb = buf[i];
                float d = dist.Distance(CodeOf(nb));
                if (d < curDist)
                {
                    curDist = d;
                    cur = nb;
                    changed = true;
                }
            }
        }
        return cur;
    }

    private void Seed(int node, float d, SlotFilter? filter, HnswScratch s, bool requireLive)
    {
        s.Visit(node);
        s.Candidates.Push(node, d);
        if (!requireLive || Accept(node, filter)) s.Top.Push(node, d);
    }

    /// <summary>The layer search of the HNSW paper: expands the closest frontier node until no frontier node can improve the beam.</summary>
    private void Beam(CodeScorer dist, int level, int ef, SlotFilter? filter, HnswScratch s)
    {
        var cand = s.Candidates;
        var top = s.Top;
        s.EnsureLinks(_m0 + 1);
        var buf = s.Links;
        while (cand.Count > 0)
        {
            int c = cand.Pop(out float dc);
            if (top.Count >= ef && dc > top.MaxDistance) break;
            int n = ReadLinks(c, level, buf);
            int fresh = 0;
            for (int i = 0; i < n; i++)
            {
                int nb = buf[i];
                if (!s.Visit(nb)) continue;
                Prefetch(nb);
                buf[fresh++] = nb;
            }
            // The next node to expand is usually the current frontier minimum: fetch its links while scoring.
            if (cand.Count > 0) PrefetchLinks(cand.MinNode, level);
            for (int i = 0; i < fresh; i++)
            {
                int nb = buf[i];
                float d = dist.Distance(CodeOf(nb));
                if (top.Count < ef || d < top.MaxDistance)
                {
                    cand.Push(nb, d);
                    if (Accept(nb, filter))
                    {
                        top.PushBounded(nb, d, ef);
                    }
                }
            }
        }
    }

    /// <summary>Adds <paramref name="newNode"/> to the links of <paramref name="target"/>, pruning with the heuristic when full.</summary>
    private void LinkBack(int target, int newNode, int level, HnswScratch s)
    {
        int max = MaxDegree(level);
        LockNode(target);
        try
        {
            var links = Links(target, level);
            int n = links[0];
            if (links.Slice(1, n).Contains(newNode)) return;
            if (n < max)
            {
                links[1 + n] = newNode;
                links[0] = n + 1;
                return;
            }
            s.EnsureCandidates(n + 1);
            var ids = s.Ids.AsSpan(0, n + 1);
            var dists = s.Dists.AsSpan(0, n + 1);
            links.Slice(1, n).CopyTo(ids);
            ids[n] = newNode;
            SetAuxQuery(target, s);
            for (int i = 0; i <= n; i++) dists[i] = AuxDistance(ids[i], s);
            dists.Sort(ids);
            int chosen = SelectNeighbors(ids, dists, max, s);
            if (level == 0)
            {
                var kept = s.Selected.AsSpan(0, chosen);
                foreach (int id in ids)
                    if (!kept.Contains(id)) s.Dropped.Add(id);
            }
            s.Selected.AsSpan(0, chosen).CopyTo(links.Slice(1, chosen));
            links[0] = chosen;
        }
        finally { UnlockNode(target); }
    }

    /// <summary>
    /// The neighbour-selection heuristic of the HNSW paper (algorithm 4): walking candidates nearest first, keep one
    /// only if it is closer to the base than to every neighbour already kept, so links spread in all directions.
    /// Candidates must be sorted ascending; the result goes to <see cref="HnswScratch.Selected"/>.
    /// </summary>
    private int SelectNeighbors(ReadOnlySpan<int> ids, ReadOnlySpan<float> dists, int m, HnswScratch s)
    {
        var sel = s.Selected;
        if (ids.Length <= m)
        {
            ids.CopyTo(sel);
            return ids.Length;
        }
        int count = 0;
        for (int i = 0; i < ids.Length && count < m; i++)
        {
            int e = ids[i];
            bool good = true;
            if (count > 0)
            {
                SetAuxQuery(e, s);
                for (int j = 0; j < count; j++)
                {
                    if (AuxDistance(sel[j], s) < dists[i])
                    {
                        good = false;
                        break;
                    }
                }
            }
            if (good) sel[count++] = e;
        }
        return count;
    }

    /// <summary>Sets the construction scorer's query to the vector a node's code stands for.</summary>
    private void SetAuxQuery(int node, HnswScratch s) => s.Aux.SetQueryFromCode(CodeOf(node));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float AuxDistance(int node, HnswScratch s) => s.Aux.Distance(CodeOf(node));
}
