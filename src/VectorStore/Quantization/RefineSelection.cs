using VectorStore.Ranking;

namespace VectorStore.Quantization;

/// <summary>
/// The decision rule of <see cref="RefineStage"/> over candidate intervals, as a resumable loop: <see cref="Start"/>
/// decides what the estimates alone settle, <see cref="Next"/> names the candidate to read at full precision (or −1
/// when none is left undecided), <see cref="Resolve"/> collapses its interval to the exact distance.
/// Not thread-safe: one per search thread; reuses its buffers, so a search allocates nothing once they have grown.
/// </summary>
/// <remarks>
/// <para>Rule, for intervals [lo, hi] around each estimate: with U the k-th smallest upper end, a candidate whose lower
/// end exceeds U cannot be among the k best and is dropped for good; an unread one with fewer than k others' lower
/// ends below its upper end is certainly among them and keeps its estimate; of the rest (undecided) the one with the
/// smallest estimate is read next (ties: the lowest candidate index). A read interval, or a zero-width one, is a point
/// and never read again.</para>
/// <para>Why this shape: the first version sorted every upper and lower end again before each read (two sorts of
/// all candidates per read). Here U comes from a bounded max-heap (O(n log k)), the first pass already leaves only
/// the survivors (typically under a fifth of 100 candidates), and their lower ends are kept sorted and updated in
/// place by each read, so a read costs a few binary searches over the survivors. The reads, their order and the
/// result are those of the sort-everything version (a test compares the two on random intervals).</para>
/// <para>Estimates, bounds and exact distances must be finite (<see cref="RefineStage"/> reads non-finite ones
/// before the rule runs).</para>
/// </remarks>
internal sealed class RefineSelection
{
    private float[] _est = [], _lo = [], _hi = [];
    private float[] _sortedLo = [];   // lower ends of the survivors, ascending
    private float[] _heap = [];       // max-heap of the k smallest upper ends while U is computed
    private int[] _active = [];       // survivors (candidate indices), ascending
    private int[] _undecided = [];
    private int _count, _n, _k, _undecidedCount;

    /// <summary>Prepares for <paramref name="count"/> candidates (indices 0 … count − 1), then <see cref="Set"/> each.</summary>
    public void Reset(int count)
    {
        if (_est.Length < count)
        {
            int size = Math.Max(count, 2 * _est.Length);
            _est = new float[size]; _lo = new float[size]; _hi = new float[size];
            _sortedLo = new float[size]; _heap = new float[size];
            _active = new int[size]; _undecided = new int[size];
        }
        _count = count;
        _n = 0;
        _undecidedCount = 0;
    }

    /// <summary>Candidate <paramref name="i"/>'s interval: [estimate − bound, estimate + bound].</summary>
    public void Set(int i, float estimate, float bound)
    {
        _est[i] = estimate;
        _lo[i] = estimate - bound;
        _hi[i] = estimate + bound;
    }

    /// <summary>Candidate <paramref name="i"/> as a point (already exact).</summary>
    public void SetExact(int i, float distance) => _est[i] = _lo[i] = _hi[i] = distance;

    /// <summary>
    /// Decides from the estimates alone for the best <paramref name="k"/>: drops the candidates that cannot be among
    /// them and lists in <see cref="Undecided"/> those that need a read (the reads <see cref="Next"/> can ask for are
    /// among them, which makes the list a good prefetch hint).
    /// </summary>
    public void Start(int k)
    {
        _k = Math.Min(k, _count);
        _undecidedCount = 0;
        _n = _k == 0 ? 0 : _count; // nothing is among the best 0
        if (_n == 0) return;
        for (int i = 0; i < _count; i++) _active[i] = i;
        Filter(KthUpper(), fromSorted: false);
        for (int a = 0; a < _n; a++)
        {
            int i = _active[a];
            if (IsUndecided(i)) _undecided[_undecidedCount++] = i;
        }
    }

    /// <summary>The candidates undecided right after <see cref="Start"/>.</summary>
    public ReadOnlySpan<int> Undecided => _undecided.AsSpan(0, _undecidedCount);

    /// <summary>The undecided candidate to read next (the smallest estimate), or −1 when every survivor is decided.</summary>
    public int Next()
    {
        if (_k == 0) return -1;
        Filter(KthUpper(), fromSorted: true);
        int pick = -1;
        for (int a = 0; a < _n; a++)
        {
            int i = _active[a];
            if ((pick < 0 || _est[i] < _est[pick]) && IsUndecided(i)) pick = i;
        }
        return pick;
    }

    /// <summary>Candidate <paramref name="i"/> (a survivor) was read: its interval becomes the point <paramref name="exact"/>.</summary>
    public void Resolve(int i, float exact)
    {
        var sorted = _sortedLo.AsSpan(0, _n);
        ReadOnlySpan<float> view = sorted;
        int at = SortedSearch.LowerBound(view, _lo[i]);
        int to = SortedSearch.LowerBound(view, exact);
        // Remove one copy of the old lower end at `at`, insert the new one keeping the order.
        if (to > at)
        {
            to--;
            sorted.Slice(at + 1, to - at).CopyTo(sorted.Slice(at));
        }
        else if (to < at)
            sorted.Slice(to, at - to).CopyTo(sorted.Slice(to + 1));
        sorted[to] = exact;
        _est[i] = _lo[i] = _hi[i] = exact;
    }

    /// <summary>The survivors (candidate indices, ascending); each one's distance is <see cref="Distance"/>.</summary>
    public ReadOnlySpan<int> Survivors => _active.AsSpan(0, _n);

    /// <summary>Candidate <paramref name="i"/>'s estimate, or its exact distance once read.</summary>
    public float Distance(int i) => _est[i];

    /// <summary>Unread, and at least k other survivors have a lower end below its upper end.</summary>
    private bool IsUndecided(int i)
    {
        if (_lo[i] == _hi[i]) return false;
        // Its own lower end is below its upper end, hence the − 1.
        return SortedSearch.LowerBound<float>(_sortedLo.AsSpan(0, _n), _hi[i]) - 1 >= _k;
    }

    /// <summary>U: the k-th smallest upper end among the survivors, through a max-heap of the k smallest.</summary>
    private float KthUpper()
    {
        var heap = _heap;
        int k = _k, size = 0;
        for (int a = 0; a < _n; a++)
        {
            float v = _hi[_active[a]];
            if (size < k)
            {
                int c = size++;
                while (c > 0)
                {
                    int parent = (c - 1) >> 1;
                    if (heap[parent] >= v) break;
                    heap[c] = heap[parent];
                    c = parent;
                }
                heap[c] = v;
            }
            else if (v < heap[0])
            {
                int c = 0;
                while (true)
                {
                    int child = 2 * c + 1;
                    if (child >= k) break;
                    if (child + 1 < k && heap[child + 1] > heap[child]) child++;
                    if (heap[child] <= v) break;
                    heap[c] = heap[child];
                    c = child;
                }
                heap[c] = v;
            }
        }
        return heap[0];
    }

    /// <summary>Drops the survivors whose lower end exceeds <paramref name="u"/> and keeps the sorted lower ends in step.</summary>
    private void Filter(float u, bool fromSorted)
    {
        int kept = 0;
        for (int a = 0; a < _n; a++)
        {
            int i = _active[a];
            if (_lo[i] <= u) _active[kept++] = i;
        }
        _n = kept;
        // The dropped lower ends are exactly those above u: a suffix of the sorted ones, cut by the shorter _n.
        if (fromSorted) return;
        for (int a = 0; a < kept; a++) _sortedLo[a] = _lo[_active[a]];
        _sortedLo.AsSpan(0, kept).Sort();
    }
}
