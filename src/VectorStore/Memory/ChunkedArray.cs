using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStore.Memory;

/// <summary>
/// Fixed-size items (<see cref="Stride"/> elements each) indexed by a dense int, stored in chunks of a power-of-two
/// number of items, each chunk full but the last: a graph's codes and layer-0 links, a refine stage's codes.
/// </summary>
/// <remarks>
/// <para>Why not one array: one array stops at 2 GiB (about 5.5M sq8 codes of 384 dimensions), and growing it copies
/// all of it, so the old and the new copy are resident together. With growth by half again that is 2.5× the data at
/// the moment of growth: under a 160 MB memory cap an HNSW build of 384-dimension sq8 codes stopped at about 75,000
/// vectors. Growing a chunked array copies its last chunk only.</para>
/// <para>Growth: the last chunk grows by a quarter (at least 1,024 items) up to a full chunk, so a small collection
/// holds little spare room and a large one at most one chunk's.</para>
/// <para>Thread-safety: reads and writes of items may run concurrently with each other (each item is plain memory);
/// <see cref="EnsureCapacity"/> and <see cref="Reserve"/> replace the last chunk and need exclusive access: callers hold
/// their structure's exclusive lock while growing.</para>
/// </remarks>
internal sealed class ChunkedArray<T> where T : unmanaged
{
    /// <summary>Smallest number of items the last chunk grows to.</summary>
    private const int MinGrowthItems = 1024;

    private readonly int _shift;
    private readonly int _mask;
    private T[][] _chunks = [];

    /// <summary>An empty array of items of <paramref name="stride"/> elements, in chunks of at most <paramref name="chunkBytes"/> bytes (at least one item each).</summary>
    public ChunkedArray(int stride, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        Stride = stride;
        long itemBytes = (long)stride * Unsafe.SizeOf<T>();
        _shift = Math.Clamp(BitOperations.Log2((ulong)Math.Max(1, chunkBytes / itemBytes)), 0, 20);
        _mask = (1 << _shift) - 1;
    }

    /// <summary>Elements per item.</summary>
    public int Stride { get; }

    /// <summary>Items a full chunk holds.</summary>
    public int ItemsPerChunk => 1 << _shift;

    /// <summary>Items covered without growing.</summary>
    public int Capacity { get; private set; }

    /// <summary>Bytes held by the chunks.</summary>
    public long MemoryBytes
    {
        get
        {
            long elements = 0;
            foreach (var chunk in _chunks) elements += chunk.Length;
            return elements * Unsafe.SizeOf<T>();
        }
    }

    /// <summary>The elements of <paramref name="item"/> (below <see cref="Capacity"/>).</summary>
    public Span<T> this[int item]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _chunks[item >> _shift].AsSpan((item & _mask) * Stride, Stride);
    }

    /// <summary>The first element of <paramref name="item"/>, unchecked beyond the chunk lookup: for prefetches and pointer walks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T First(int item) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_chunks[item >> _shift]), (nint)(item & _mask) * Stride);

    /// <summary>Grows, when needed, to cover items [0, <paramref name="items"/>), by the growth rule of the class.</summary>
    public void EnsureCapacity(int items)
    {
        if (items <= Capacity) return;
        int c = (items - 1) >> _shift;
        int held = c < _chunks.Length ? _chunks[c].Length / Stride : 0;
        Grow(c, Math.Min(ItemsPerChunk, Math.Max(((items - 1) & _mask) + 1, Math.Max(held + held / 4, MinGrowthItems))));
    }

    /// <summary>Grows, when needed, to cover items [0, <paramref name="items"/>) exactly: no spare room in the last chunk.</summary>
    public void Reserve(int items)
    {
        if (items <= Capacity) return;
        int c = (items - 1) >> _shift;
        Grow(c, ((items - 1) & _mask) + 1);
    }

    /// <summary>Makes chunk <paramref name="c"/> hold at least <paramref name="items"/> items and every chunk before it full.</summary>
    private void Grow(int c, int items)
    {
        if (c >= _chunks.Length)
        {
            int old = _chunks.Length;
            Array.Resize(ref _chunks, c + 1);
            for (int i = old; i <= c; i++) _chunks[i] = [];
        }
        int full = ItemsPerChunk * Stride;
        for (int i = 0; i < c; i++)
            if (_chunks[i].Length < full) Array.Resize(ref _chunks[i], full);
        if (_chunks[c].Length < items * Stride) Array.Resize(ref _chunks[c], items * Stride);
        int last = _chunks.Length - 1;
        Capacity = (int)Math.Min(int.MaxValue, ((long)last << _shift) + _chunks[last].Length / Stride);
    }

    /// <summary>Chunks that items [0, <paramref name="items"/>) fall in: the segments <see cref="Segment"/> hands out.</summary>
    public int SegmentCount(int items) => items <= 0 ? 0 : ((items - 1) >> _shift) + 1;

    /// <summary>
    /// The elements of items [0, <paramref name="items"/>) that chunk <paramref name="c"/> holds, for writing and reading
    /// them in bulk; shorter than <see cref="SegmentLength"/> where the chunk does not cover them yet.
    /// </summary>
    public Span<T> Segment(int c, int items)
    {
        if (c >= _chunks.Length) return [];
        return _chunks[c].AsSpan(0, Math.Min(_chunks[c].Length, SegmentLength(c, items)));
    }

    /// <summary>Elements items [0, <paramref name="items"/>) have in chunk <paramref name="c"/>.</summary>
    public int SegmentLength(int c, int items) => (int)Math.Min(ItemsPerChunk, items - ((long)c << _shift)) * Stride;
}
