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
/// <para>Each entry is one 64-bit key: the distance's bits mapped to an unsigned integer of the same order, above the
/// slot. One integer compare ranks two entries by distance and then slot, a compaction selects over one array, and a
/// sort of the keys is already ordered by slot within equal distances. With separate distance and slot arrays the
/// reservoir's compactions took a third of a k = 100 flat fast-scan search (text set, 50k × 384, pq:96x4).</para>
/// </remarks>
public sealed class TopK
{
    /// <summary>Capacities from which the reservoir layout is used instead of the heap.</summary>
    public const int ReservoirMinCapacity = 32;

    /// <summary>Ranks after every real entry: the reservoir's bound before its first compaction.</summary>
    private const ulong NoBound = ulong.MaxValue;

    private ulong[] _keys;
    private int _count;
    private bool _reservoir;
    private ulong _bound; // reservoir: key of the worst kept entry after the last compaction (NoBound before)

    /// <summary>Creates a heap for <paramref name="capacity"/> results.</summary>
    public TopK(int capacity)
    {
        _keys = [];
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
        get => _reservoir
            ? _bound == NoBound ? float.PositiveInfinity : DistanceOf(_bound)
            : _count == Capacity ? DistanceOf(_keys[0]) : float.PositiveInfinity;
    }

    /// <summary>Empties the heap and sets a new capacity.</summary>
    public void Reset(int capacity)
    {
        if (capacity <= 0) throw new InvalidArgumentException($"k must be positive, got {capacity}");
        _reservoir = capacity >= ReservoirMinCapacity;
        int room = _reservoir ? 2 * capacity : capacity;
        if (room > _keys.Length) _keys = new ulong[room];
        Capacity = capacity;
        Empty();
    }

    private void Empty()
    {
        _count = 0;
        _bound = NoBound;
    }

    /// <summary>
    /// The entry's key: smaller ranks first. NaN (an overflowing inner product of huge values) ranks as +∞, and −0
    /// as 0, so that both compare as floats do. Slots are non-negative.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong KeyOf(int slot, float distance)
    {
        if (float.IsNaN(distance)) distance = float.PositiveInfinity;
        uint bits = BitConverter.SingleToUInt32Bits(distance == 0 ? 0f : distance);
        // Positive floats order as their bits, negative ones in reverse: flip all bits of a negative, the sign of a positive.
        uint ordered = (int)bits < 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)ordered << 32) | (uint)slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float DistanceOf(ulong key)
    {
        uint ordered = (uint)(key >> 32);
        return BitConverter.UInt32BitsToSingle((int)ordered < 0 ? ordered & 0x7FFF_FFFFu : ~ordered);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int SlotOf(ulong key) => (int)(uint)key;

    /// <summary>
    /// Offers a candidate; returns whether it was kept for now (a reservoir may still drop it at a later compaction,
    /// in favour of better candidates).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(int slot, float distance)
    {
        ulong key = KeyOf(slot, distance);
        if (_reservoir)
        {
            if (key >= _bound) return false;
            if (_count == _keys.Length) Compact();
            _keys[_count++] = key;
            return true;
        }
        if (_count < Capacity)
        {
            int i = _count++;
            // Sift up.
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_keys[parent] >= key) break;
                _keys[i] = _keys[parent];
                i = parent;
            }
            _keys[i] = key;
            return true;
        }
        if (key >= _keys[0]) return false;
        SiftDown(key);
        return true;
    }

    private void SiftDown(ulong key)
    {
        var keys = _keys;
        int n = _count;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && keys[child] < keys[child + 1]) child++;
            if (key >= keys[child]) break;
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = key;
    }

    /// <summary>Reservoir: keeps the best <see cref="Capacity"/> entries in front and tightens the bound to the worst of them.</summary>
    private void Compact()
    {
        int k = Capacity;
        if (_count <= k) return;
        // Afterwards the worst kept entry sits at k − 1 and every entry before it ranks before it.
        _bound = OrderStatistic.Select(_keys.AsSpan(0, _count), k - 1);
        _count = k;
    }

    /// <summary>
    /// Copies the kept results in no particular order and empties the heap; returns how many. For callers that
    /// re-score the candidates anyway (re-ranking), where sorting them first would be wasted work.
    /// </summary>
    public int DrainUnordered(Span<int> slots, Span<float> distances)
    {
        if (_reservoir) Compact();
        int n = _count;
        Decode(_keys.AsSpan(0, n), slots, distances);
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
        var keys = _keys.AsSpan(0, n);
        keys.Sort();
        Decode(keys, slots, distances);
        Empty();
        return n;
    }

    private static void Decode(ReadOnlySpan<ulong> keys, Span<int> slots, Span<float> distances)
    {
        if (slots.Length < keys.Length || distances.Length < keys.Length) throw new ArgumentException("output spans are shorter than the results");
        for (int i = 0; i < keys.Length; i++)
        {
            slots[i] = SlotOf(keys[i]);
            distances[i] = DistanceOf(keys[i]);
        }
    }
}
