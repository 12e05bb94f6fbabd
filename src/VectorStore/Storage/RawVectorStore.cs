using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using VectorStore.Distance;
using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>
/// Full-precision vectors by slot, for re-ranking, <c>get</c> and <c>export</c>; a slot must be <see cref="Set"/> before
/// it is read. Chunked so growth never copies what
/// is stored; chunks of 2 MiB or more sit on transparent huge pages where available (<see cref="HugePageArray"/>).
/// Thread-safety: reads (<see cref="Get"/>, <see cref="ComputeDistances"/>) may run concurrently with each
/// other; writes are serialized by the collection's write lock.
/// </summary>
internal sealed class RawVectorStore(int dimension) : IVectorReader
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

    // Each chunk's vectors start at Offset inside Array (non-zero when HugePageArray aligned them to 2 MiB).
    private Chunk[] _chunks = [];

    public int Dimension { get; } = dimension;

    public long MemoryBytes => (long)_chunks.Count(c => c.Array is not null) * ChunkSize * Dimension * sizeof(float);

    public ReadOnlySpan<float> Get(int slot)
    {
        var chunk = _chunks[slot >> ChunkShift];
        return new(chunk.Array, chunk.Offset + (slot & (ChunkSize - 1)) * Dimension, Dimension);
    }

    public void Set(int slot, ReadOnlySpan<float> vector)
    {
        int c = slot >> ChunkShift;
        if (c >= _chunks.Length)
        {
            var grown = new Chunk[Math.Max(c + 1, _chunks.Length * 2)];
            Array.Copy(_chunks, grown, _chunks.Length);
            _chunks = grown;
        }
        // Chunks are created on first write, not when the table doubles: a huge-page chunk is zeroed (touched) at
        // allocation, so spare chunks would cost memory that a lazily zeroed plain array did not.
        if (_chunks[c].Array is null)
        {
            var array = HugePageArray.Allocate(ChunkSize * Dimension, out int offset);
            _chunks[c] = new Chunk(array, offset);
        }
        var target = _chunks[c];
        vector.CopyTo(target.Array.AsSpan(target.Offset + (slot & (ChunkSize - 1)) * Dimension, Dimension));
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

    /// <inheritdoc />
    /// <remarks>Every cache line of each vector into L2, as <see cref="ComputeDistances"/> does ahead of its scoring.</remarks>
    public void Prefetch(ReadOnlySpan<int> slots)
    {
        if (!Sse.IsSupported) return;
        foreach (int slot in slots) Prefetch(slot);
    }

    /// <summary>How many vectors of <paramref name="dimension"/> floats fit in <see cref="PrefetchBytes"/> (at least 4).</summary>
    internal static int PrefetchDistance(int dimension) => Math.Max(4, PrefetchBytes / (dimension * sizeof(float)));

    /// <summary>
    /// Requests every cache line of one vector into L2 (prefetcht1: in measurements prefetcht0 gained nothing here,
    /// presumably because a burst of L1 fills stalls on the few L1 miss buffers while L2 has many more).
    /// </summary>
    /// <remarks>
    /// The pointer is taken without pinning. That is safe: a prefetch is a hint that never faults, so even if a GC
    /// moved the chunk in between the only cost would be a useless prefetch (chunks are pinned-heap or
    /// large-object-heap arrays and are not normally moved at all).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Prefetch(int slot)
    {
        var chunk = _chunks[slot >> ChunkShift];
        ref float first = ref MemoryMarshal.GetArrayDataReference(chunk.Array);
        ref float vector = ref Unsafe.Add(ref first, chunk.Offset + (slot & (ChunkSize - 1)) * Dimension);
        CachePrefetch.ToL2(ref Unsafe.As<float, byte>(ref vector), Dimension * sizeof(float));
    }

    private readonly record struct Chunk(float[] Array, int Offset);
}
