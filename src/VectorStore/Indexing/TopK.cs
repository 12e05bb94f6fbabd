using System.Runtime.CompilerServices;

namespace VectorStore.Indexing;

/// <summary>
/// A bounded max-heap that keeps the <see cref="Capacity"/> smallest distances seen. Allocation happens once, at
/// construction or <see cref="Reset"/> with a larger capacity; pushing candidates allocates nothing. Not thread-safe:
/// one per search thread.
/// </summary>
public sealed class TopK
{
    private int[] _slots;
    private float[] _dist;
    private int _count;

    /// <summary>Creates a heap for <paramref name="capacity"/> results.</summary>
    public TopK(int capacity)
    {
        if (capacity <= 0) throw new InvalidArgumentException($"k must be positive, got {capacity}");
        _slots = new int[capacity];
        _dist = new float[capacity];
        Capacity = capacity;
    }

    /// <summary>How many results the heap keeps.</summary>
    public int Capacity { get; private set; }

    /// <summary>How many results it holds now.</summary>
    public int Count => _count;

    /// <summary>Whether it holds <see cref="Capacity"/> results.</summary>
    public bool IsFull => _count == Capacity;

    /// <summary>The largest kept distance, or +∞ while not full: a candidate must beat it to enter.</summary>
    public float Threshold
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _count == Capacity ? _dist[0] : float.PositiveInfinity;
    }

    /// <summary>Empties the heap and sets a new capacity.</summary>
    public void Reset(int capacity)
    {
        if (capacity <= 0) throw new InvalidArgumentException($"k must be positive, got {capacity}");
        if (capacity > _slots.Length)
        {
            _slots = new int[capacity];
            _dist = new float[capacity];
        }
        Capacity = capacity;
        _count = 0;
    }

    /// <summary>Offers a candidate; returns whether it was kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(int slot, float distance)
    {
        if (_count < Capacity)
        {
            int i = _count++;
            // Sift up.
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_dist[parent] >= distance) break;
                _dist[i] = _dist[parent];
                _slots[i] = _slots[parent];
                i = parent;
            }
            _dist[i] = distance;
            _slots[i] = slot;
            return true;
        }
        if (!(distance < _dist[0])) return false;
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
            if (child + 1 < n && _dist[child + 1] > _dist[child]) child++;
            if (_dist[child] <= distance) break;
            _dist[i] = _dist[child];
            _slots[i] = _slots[child];
            i = child;
        }
        _dist[i] = distance;
        _slots[i] = slot;
    }

    /// <summary>
    /// Sorts the kept results best first (ascending distance, ties by slot) into the spans and empties the heap.
    /// Returns how many were written.
    /// </summary>
    public int Drain(Span<int> slots, Span<float> distances)
    {
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
        _count = 0;
        return n;
    }
}
