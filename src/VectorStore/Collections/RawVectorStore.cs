using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using VectorStore.Distance;

namespace VectorStore.Collections;

/// <summary>
/// Full-precision vectors by slot, for re-ranking, <c>get</c> and <c>export</c>. Chunked so growth never copies what
/// is stored. Thread-safety: reads (<see cref="Get"/>, <see cref="ComputeDistances"/>) may run concurrently with each
/// other; writes are serialized by the collection's write lock.
/// </summary>
internal sealed class RawVectorStore(int dimension)
{
    private const int ChunkShift = 12; // 4,096 vectors per chunk
    private const int ChunkSize = 1 << ChunkShift;

    /// <summary>
    /// How many bytes of vectors <see cref="ComputeDistances"/> keeps requested ahead of the one being scored.
    /// Re-rank candidates are random slots of a store far larger than the caches, so each is a DRAM (and TLB) miss;
    /// requesting many at once overlaps their latencies. Measured inside the real search flow on the 50k×384 text
    /// set (notes/rerankfast.md), the further ahead the better up to "all 100 candidates first" (150 KB); 256 KiB
    /// covers that at 384-d and stays well inside a 1–2 MiB L2 at any dimension.
    /// </summary>
    internal const int PrefetchBytes = 256 * 1024;

    private float[][] _chunks = [];

    public int Dimension { get; } = dimension;

    public long MemoryBytes => (long)_chunks.Length * ChunkSize * Dimension * sizeof(float);

    public ReadOnlySpan<float> Get(int slot) =>
        new(_chunks[slot >> ChunkShift], (slot & (ChunkSize - 1)) * Dimension, Dimension);

    public void Set(int slot, ReadOnlySpan<float> vector)
    {
        int c = slot >> ChunkShift;
        if (c >= _chunks.Length)
        {
            var grown = new float[Math.Max(c + 1, _chunks.Length * 2)][];
            Array.Copy(_chunks, grown, _chunks.Length);
            for (int i = _chunks.Length; i < grown.Length; i++) grown[i] = new float[ChunkSize * Dimension];
            _chunks = grown;
        }
        vector.CopyTo(_chunks[c].AsSpan((slot & (ChunkSize - 1)) * Dimension, Dimension));
    }

    /// <summary>
    /// <c>distances[i] = Distances.Compute(kind, query, Get(slots[i]))</c> for every <c>i</c>, bit-identical to that
    /// loop, with the next <see cref="PrefetchDistance"/> vectors prefetched into L2 before each is scored (for a
    /// re-rank depth of 100 at 384-d: all of them, up front). Allocates nothing.
    /// </summary>
    public void ComputeDistances(DistanceKind kind, ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances)
    {
        if (distances.Length < slots.Length) throw new ArgumentException("fewer distance outputs than slots");
        int n = slots.Length;
        int ahead = PrefetchDistance(Dimension);
        if (Sse.IsSupported)
            for (int i = 0; i < Math.Min(ahead, n); i++) Prefetch(slots[i]);
        for (int i = 0; i < n; i++)
        {
            if (Sse.IsSupported && i + ahead < n) Prefetch(slots[i + ahead]);
            distances[i] = Distances.Compute(kind, query, Get(slots[i]));
        }
    }

    /// <summary>How many vectors of <paramref name="dimension"/> floats fit in <see cref="PrefetchBytes"/> (at least 4).</summary>
    internal static int PrefetchDistance(int dimension) => Math.Max(4, PrefetchBytes / (dimension * sizeof(float)));

    /// <summary>
    /// Requests every cache line of one vector into L2 (prefetcht1: in measurements prefetcht0 gained nothing here,
    /// presumably because a burst of L1 fills stalls on the few L1 miss buffers while L2 has many more).
    /// </summary>
    /// <remarks>
    /// The pointer is taken from an unpinned array. That is safe: a prefetch is a hint that never faults, so if a GC
    /// moved the chunk in between, the only cost is a useless prefetch (chunks are large-object-heap arrays and
    /// are not normally moved at all).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void Prefetch(int slot)
    {
        ref float first = ref MemoryMarshal.GetArrayDataReference(_chunks[slot >> ChunkShift]);
        byte* p = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref first, (slot & (ChunkSize - 1)) * Dimension));
        int bytes = Dimension * sizeof(float);
        for (int off = 0; off < bytes; off += 64) Sse.Prefetch1(p + off);
        // The vector need not start on a line boundary: its last byte may sit one line beyond the loop's reach.
        Sse.Prefetch1(p + bytes - 1);
    }
}
