using System.Runtime.CompilerServices;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Hnsw;

/// <summary>
/// Per-thread working memory of <see cref="HnswIndex"/>: visited marks, the two beam heaps, link and candidate
/// buffers and the query scorers. Grows when the index grows; a query allocates nothing. Not thread-safe: one per
/// thread (held in a <see cref="ThreadLocal{T}"/>).
/// </summary>
internal sealed class HnswScratch
{
    private int[] _marks = new int[1024];
    private int _epoch;

    public HnswScratch(VectorCodec codec, DistanceKind kind)
    {
        Scorer = codec.CreateTraversalScorer(kind);
        Aux = codec.CreateTraversalScorer(kind);
    }

    /// <summary>The codec's traversal scorer, set on the query of a search or insert.</summary>
    public CodeScorer Scorer { get; }

    /// <summary>Second scorer for node-to-node distances during construction and repair, so the insert's query stays set.</summary>
    public CodeScorer Aux { get; }

    public HnswMinHeap Candidates { get; } = new(64);
    public HnswMaxHeap Top { get; } = new(64);
    public int[] Links { get; private set; } = new int[64];
    public int[] Links2 { get; private set; } = new int[64];
    public int[] Ids { get; private set; } = new int[256];
    public float[] Dists { get; private set; } = new float[256];
    public int[] Selected { get; private set; } = new int[64];

    /// <summary>Layer-0 nodes an insert's back links pruned from a neighbour's list: each may have lost its last in-link.</summary>
    public List<int> Dropped { get; } = [];

    public void EnsureLinks(int n)
    {
        if (Links.Length < n) { Links = new int[n]; Links2 = new int[n]; Selected = new int[n]; }
    }

    public void EnsureCandidates(int n)
    {
        if (Ids.Length < n) { Ids = new int[n]; Dists = new float[n]; }
    }

    /// <summary>Starts a new visited set over nodes [0, capacity).</summary>
    public void NewVisit(int capacity)
    {
        if (_marks.Length < capacity) { _marks = new int[Math.Max(capacity, _marks.Length * 2)]; _epoch = 0; }
        if (++_epoch == int.MaxValue)
        {
            Array.Clear(_marks);
            _epoch = 1;
        }
    }

    /// <summary>Marks <paramref name="node"/>; returns false when it was already marked in this visit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Visit(int node)
    {
        ref int m = ref _marks[node];
        if (m == _epoch) return false;
        m = _epoch;
        return true;
    }
}

/// <summary>A binary min-heap of (distance, node): the beam's frontier. Not thread-safe.</summary>
internal sealed class HnswMinHeap(int capacity)
{
    private float[] _d = new float[capacity];
    private int[] _n = new int[capacity];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    public float MinDistance => _d[0];

    public int MinNode => _n[0];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(int node, float dist)
    {
        if (Count == _d.Length) { Array.Resize(ref _d, Count * 2); Array.Resize(ref _n, Count * 2); }
        int i = Count++;
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (_d[p] <= dist) break;
            _d[i] = _d[p];
            _n[i] = _n[p];
            i = p;
        }
        _d[i] = dist;
        _n[i] = node;
    }

    public int Pop(out float dist)
    {
        int top = _n[0];
        dist = _d[0];
        int n = --Count;
        if (n > 0)
        {
            float ld = _d[n];
            int ln = _n[n];
            int i = 0;
            while (true)
            {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && _d[c + 1] < _d[c]) c++;
                if (_d[c] >= ld) break;
                _d[i] = _d[c];
                _n[i] = _n[c];
                i = c;
            }
            _d[i] = ld;
            _n[i] = ln;
        }
        return top;
    }
}

/// <summary>A binary max-heap of (distance, node): the beam's best results, worst on top. Not thread-safe.</summary>
internal sealed class HnswMaxHeap(int capacity)
{
    private float[] _d = new float[capacity];
    private int[] _n = new int[capacity];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    public float MaxDistance => _d[0];

    public ReadOnlySpan<int> Nodes => _n.AsSpan(0, Count);

    public ReadOnlySpan<float> Distances => _d.AsSpan(0, Count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(int node, float dist)
    {
        if (Count == _d.Length) { Array.Resize(ref _d, Count * 2); Array.Resize(ref _n, Count * 2); }
        int i = Count++;
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (_d[p] >= dist) break;
            _d[i] = _d[p];
            _n[i] = _n[p];
            i = p;
        }
        _d[i] = dist;
        _n[i] = node;
    }

    /// <summary>
    /// Keeps the <paramref name="bound"/> nearest: a push while fewer are held, else the farthest is replaced by this
    /// entry, which the caller has checked is nearer. One sift down instead of a push's sift up and a pop's sift down.
    /// The distances kept are those a push and a pop keep; among equally far entries, which one leaves later may differ
    /// (arbitrary either way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushBounded(int node, float dist, int bound)
    {
        if (Count < bound) Push(node, dist);
        else SiftDownFromRoot(node, dist, Count);
    }

    public void Pop()
    {
        int n = --Count;
        if (n == 0) return;
        SiftDownFromRoot(_n[n], _d[n], n);
    }

    /// <summary>Puts (<paramref name="node"/>, <paramref name="dist"/>) at the root of the first <paramref name="n"/> entries and sifts it down.</summary>
    private void SiftDownFromRoot(int node, float dist, int n)
    {
        int i = 0;
        while (true)
        {
            int c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && _d[c + 1] > _d[c]) c++;
            if (_d[c] <= dist) break;
            _d[i] = _d[c];
            _n[i] = _n[c];
            i = c;
        }
        _d[i] = dist;
        _n[i] = node;
    }
}
