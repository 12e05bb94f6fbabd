using System.Runtime.CompilerServices;

namespace VectorStore.Ranking;

/// <summary>
/// Keeps the <see cref="Capacity"/> best candidates offered: smallest distance first and, among equal distances,
/// smallest slot — so what it keeps does not depend on the order candidates arrive in. Allocation happens once, at
/// construction or <see cref="Reset"/> with a larger capacity; pushing candidates allocates nothing. Not thread-safe:
/// one per search thread.
/// </summary>
/// <remarks>
/// <para>Small capacities use a bounded binary max-heap. From <see cref="ReservoirMinCapacity"/> on (the candidate
/// lists of re-ranking, k = 100) a reservoir is faster: a push that beats the threshold is an append; when the buffer
/// of 2·capacity fills, a quickselect keeps the best <see cref="Capacity"/> and the threshold becomes the worst kept.
/// A heap pays a sift with unpredictable branches for every accepted push (about 7 levels at k = 100), which
/// measured ~15 µs per query on the 50k text set; the reservoir's threshold is looser between compactions, so a few
/// more candidates pass, but each costs an append.</para>
/// </remarks>
public sealed class TopK
{
    /// <summary>Capacities from which the reservoir layout is used instead of the heap.</summary>
    public const int ReservoirMinCapacity = 32;

    private int[] _slots;
    private float[] _dist;
    private int _count;
    private bool _reservoir;
    private float _bound; // reservoir: distance of the worst kept entry after the last compaction (+∞ before)
    private int _boundSlot;

    /// <summary>Creates a heap for <paramref name="capacity"/> results.</summary>
    public TopK(int capacity)
    {
        _slots = [];
        _dist = [];
        Reset(capacity);
    }

    /// <summary>How many results the heap keeps.</summary>
    public int Capacity { get; private set; }

    /// <summary>How many results it holds now (what <see cref="Drain"/> would return).</summary>
    public int Count => Math.Min(_count, Capacity);

    /// <summary>Whether it holds <see cref="Capacity"/> results.</summary>
    public bool IsFull => _count >= Capacity;

    /// <summary>
    /// A candidate whose distance is above this cannot enter (+∞ while nothing is known). For the heap it is the worst
    /// kept distance once full; for the reservoir the worst kept at the last compaction, which may be looser.
    /// </summary>
    public float Threshold
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _reservoir ? _bound : _count == Capacity ? _dist[0] : float.PositiveInfinity;
    }

    /// <summary>Empties the heap and sets a new capacity.</summary>
    public void Reset(int capacity)
    {
        if (capacity <= 0) throw new InvalidArgumentException($"k must be positive, got {capacity}");
        _reservoir = capacity >= ReservoirMinCapacity;
        int room = _reservoir ? 2 * capacity : capacity;
        if (room > _slots.Length)
        {
            _slots = new int[room];
            _dist = new float[room];
        }
        Capacity = capacity;
        Empty();
    }

    private void Empty()
    {
        _count = 0;
        _bound = float.PositiveInfinity;
        _boundSlot = int.MaxValue;
    }

    /// <summary>(d, s) ranks before (bound, boundSlot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(float d, int s, float bound, int boundSlot) => d < bound || (d == bound && s < boundSlot);

    /// <summary>
    /// Offers a candidate; returns whether it was kept for now (a reservoir may still drop it at a later compaction,
    /// in favour of better candidates).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(int slot, float distance)
    {
        // NaN (an overflowing inner product of huge values) ranks last, the same in both layouts.
        if (float.IsNaN(distance)) distance = float.PositiveInfinity;
        if (_reservoir)
        {
            if (!Before(distance, slot, _bound, _boundSlot)) return false;
            if (_count == _slots.Length) Compact();
            _slots[_count] = slot;
            _dist[_count++] = distance;
            return true;
        }
        if (_count < Capacity)
        {
            int i = _count++;
            // Sift up.
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Before(_dist[parent], _slots[parent], distance, slot)) break;
                _dist[i] = _dist[parent];
                _slots[i] = _slots[parent];
                i = parent;
            }
            _dist[i] = distance;
            _slots[i] = slot;
            return true;
        }
        if (!Before(distance, slot, _dist[0], _slots[0])) return false;
        SiftDown(slot, distance);
        return true;
    }

    private void SiftDown(int slot, float distance)
    {
        int n = _count;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && Before(_dist[child], _slots[child], _dist[child + 1], _slots[child + 1])) child++;
            if (!Before(distance, slot, _dist[child], _slots[child])) break;
            _dist[i] = _dist[child];
            _slots[i] = _slots[child];
            i = child;
        }
        _dist[i] = distance;
        _slots[i] = slot;
    }

    /// <summary>Reservoir: keeps the best <see cref="Capacity"/> entries in front and tightens the bound to the worst of them.</summary>
    private void Compact()
    {
        int k = Capacity;
        if (_count <= k) return;
        Select(_dist, _slots, _count, k - 1);
        _count = k;
        // After the selection the worst kept entry sits at k − 1.
        _bound = _dist[k - 1];
        _boundSlot = _slots[k - 1];
    }

    /// <summary>
    /// Quickselect on (distance, slot): afterwards entry <paramref name="nth"/> is the one that ranks there, entries
    /// before it rank before it and entries after it rank after it. Median-of-three pivots; the keys are distinct
    /// pairs (a slot is offered once), so it terminates on any input.
    /// </summary>
    private static void Select(float[] d, int[] s, int count, int nth)
    {
        int lo = 0, hi = count - 1;
        while (hi > lo)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (Before(d[mid], s[mid], d[lo], s[lo])) Swap(d, s, mid, lo);
            if (Before(d[hi], s[hi], d[lo], s[lo])) Swap(d, s, hi, lo);
            if (Before(d[hi], s[hi], d[mid], s[mid])) Swap(d, s, hi, mid);
            float pd = d[mid];
            int ps = s[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (Before(d[i], s[i], pd, ps)) i++;
                while (Before(pd, ps, d[j], s[j])) j--;
                if (i <= j)
                {
                    Swap(d, s, i, j);
                    i++;
                    j--;
                }
            }
            if (nth <= j) hi = j;
            else if (nth >= i) lo = i;
            else return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Swap(float[] d, int[] s, int a, int b)
    {
        (d[a], d[b]) = (d[b], d[a]);
        (s[a], s[b]) = (s[b], s[a]);
    }

    /// <summary>
    /// Copies the kept results in no particular order and empties the heap; returns how many. For callers that
    /// re-score the candidates anyway (re-ranking), where sorting them first would be wasted work.
    /// </summary>
    public int DrainUnordered(Span<int> slots, Span<float> distances)
    {
        if (_reservoir) Compact();
        int n = _count;
        _slots.AsSpan(0, n).CopyTo(slots);
        _dist.AsSpan(0, n).CopyTo(distances);
        Empty();
        return n;
    }

    /// <summary>
    /// Sorts the kept results best first (ascending distance, ties by slot) into the spans and empties the heap.
    /// Returns how many were written.
    /// </summary>
    public int Drain(Span<int> slots, Span<float> distances)
    {
        if (_reservoir) Compact();
        int n = _count;
        var s = _slots.AsSpan(0, n);
        var d = _dist.AsSpan(0, n);
        // Sorting keys then items keeps this allocation-free; ties are resolved below.
        d.Sort(s);
        for (int i = 1; i < n; i++)
        {
            // Insertion pass to order equal distances by slot for deterministic output.
            int j = i;
            while (j > 0 && d[j] == d[j - 1] && s[j] < s[j - 1])
            {
                (s[j], s[j - 1]) = (s[j - 1], s[j]);
                j--;
            }
        }
        s.CopyTo(slots);
        d.CopyTo(distances);
        Empty();
        return n;
    }
}
