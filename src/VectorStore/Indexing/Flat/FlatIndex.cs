using System.Numerics;
using VectorStore.Memory;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Threading;

namespace VectorStore.Indexing.Flat;

/// <summary>
/// Exhaustive scan over codes stored contiguously by slot. Scores blocks of codes with the codec's batch kernel,
/// keeps the best in a bounded heap, and allocates nothing per candidate. Thread-safety: searches run concurrently;
/// mutations are serialized by the caller (see <see cref="VectorIndex"/>). Codecs with a block layout
/// (<see cref="IBlockCodec"/>, e.g. <c>pq:Mx4</c>) keep their codes packed in blocks by slot and are scanned with the
/// block kernel; snapshots still hold one code per slot.
/// </summary>
/// <remarks>
/// The codes sit in chunks of a power of two of slots (at most <see cref="ChunkTargetBytes"/> each, at least one scan
/// block), not in one array that doubles: a doubling array holds up to twice what it stores, and the outgrown one stays
/// counted by the garbage collector until a collection, which under a heap limit (a container's memory limit) is
/// memory the process cannot use (notes/memory-caps.md). Only the first chunk doubles, up to a whole chunk, so a
/// small collection stays small. One scan block never spans two chunks.
/// </remarks>
public sealed class FlatIndex : VectorIndex
{
    private const int BlockSize = 256;

    /// <summary>
    /// The most bytes of one chunk of codes, unless a single scan block of codes is larger. Small, because each copy of
    /// a collection keeps its last chunk partly empty and a heap limit counts it whole (a silo holds several copies);
    /// a scan looks its chunk up once per 256 codes, so the size does not show in search time.
    /// </summary>
    internal const int ChunkTargetBytes = 1 << 20;

    private readonly ThreadLocal<Scratch> _scratch;
    private readonly IBlockCodec? _blocks;
    // Chunk c holds slots [c << _chunkShift, (c + 1) << _chunkShift); only the first may be shorter (while it doubles).
    private byte[][] _chunks = [];
    private int _chunkCount;
    private readonly int _chunkShift;
    private readonly int _chunkMask;
    private readonly SlotBitmap _live;
    private int _capacity;
    private int _count;
    private int _highWater;

    /// <summary>Creates an empty flat index over <paramref name="codec"/>.</summary>
    public FlatIndex(VectorCodec codec, DistanceKind kind, int initialCapacity = 1024)
        : this(codec, kind, initialCapacity, ChunkShiftFor(codec))
    {
    }

    /// <summary>An empty index with chunks of 2^<paramref name="chunkShift"/> slots (at least one scan block), so tests reach many chunks with few codes.</summary>
    internal FlatIndex(VectorCodec codec, DistanceKind kind, int initialCapacity, int chunkShift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(1 << chunkShift, BlockSize, nameof(chunkShift));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 30);
        Codec = codec;
        DistanceKind = kind;
        _blocks = codec.BlockLayout;
        _chunkShift = chunkShift;
        _chunkMask = (1 << _chunkShift) - 1;
        _live = new SlotBitmap(64);
        Reserve(Math.Max(64, initialCapacity) - 1);
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(codec.CreateScorer(kind)));
    }

    /// <inheritdoc />
    public override string Spec => "flat";

    /// <inheritdoc />
    public override string Kind => "flat";

    /// <inheritdoc />
    public override VectorCodec Codec { get; }

    /// <inheritdoc />
    public override DistanceKind DistanceKind { get; }

    /// <inheritdoc />
    public override int Count => _count;

    /// <inheritdoc />
    /// <remarks>Re-adding a slot encodes it again: the same code.</remarks>
    internal override bool ReplaysChanges => true;

    /// <inheritdoc />
    public override long MemoryBytes => (long)_count * Codec.CodeSize + Codec.ParameterBytes;

    /// <summary>
    /// Slots per chunk, as a shift: the largest power of two whose codes fit in <see cref="ChunkTargetBytes"/>, and at
    /// least <see cref="BlockSize"/> (a multiple of every block layout's power-of-two block), so a scan block and a
    /// layout block never span two chunks.
    /// </summary>
    internal static int ChunkShiftFor(VectorCodec codec)
    {
        double bytesPerSlot = codec.BlockLayout is { } blocks ? (double)blocks.BlockBytes / blocks.BlockVectors : codec.CodeSize;
        int shift = BitOperations.Log2((uint)BlockSize);
        while (shift < 30 && (1L << (shift + 1)) * bytesPerSlot <= ChunkTargetBytes) shift++;
        return shift;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Only the slot numbers limit it: whole chunks up to <see cref="int.MaxValue"/>, so the scans' block counters and
    /// the snapshot's chunk counters never pass it.
    /// </remarks>
    protected override int ArraySlots => int.MaxValue & ~_chunkMask;

    private int CodeBytes(int slots) =>
        _blocks is null ? checked(slots * Codec.CodeSize) : checked((slots + _blocks.BlockVectors - 1) / _blocks.BlockVectors * _blocks.BlockBytes);

    /// <summary>The codes of slots [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>), all in one chunk.</summary>
    private Span<byte> Codes(byte[][] chunks, int start, int count)
    {
        var chunk = chunks[start >> _chunkShift];
        int local = start & _chunkMask;
        return _blocks is null ? chunk.AsSpan(local * Codec.CodeSize, count * Codec.CodeSize) : _blocks.Range(chunk, local, count);
    }

    private Span<byte> BlockOf(int slot) => Codes(_chunks, slot & ~(_blocks!.BlockVectors - 1), _blocks.BlockVectors);

    private void EnsureCapacity(int slot)
    {
        if (slot < _capacity) return;
        if (slot >= MaxSlots) throw CapacityError(slot + 1L, "its slots are 32-bit numbers");
        Reserve(slot);
    }

    /// <summary>Room up to <paramref name="slot"/>: the first chunk doubles up to a whole chunk, then whole chunks follow.</summary>
    private void Reserve(int slot)
    {
        int chunkSlots = _chunkMask + 1;
        if (_capacity < chunkSlots)
        {
            int cap = (int)Math.Min(chunkSlots, Math.Max(slot + 1L, 2L * _capacity));
            if (_blocks is not null) cap = (cap + _blocks.BlockVectors - 1) / _blocks.BlockVectors * _blocks.BlockVectors;
            var first = HugePageArray.AllocateBytes(CodeBytes(cap));
            if (_chunkCount == 0)
            {
                _chunks = [first];
                _chunkCount = 1;
            }
            else
            {
                var old = _chunks[0];
                old.CopyTo(first, 0);
                _chunks[0] = first;
                // The outgrown array would stay a resident hole in the heap until the collector reuses it; nothing
                // reads it any more: mutations exclude searches and snapshots (VectorIndex's contract).
                HugePageArray.Discard(old);
            }
            _capacity = cap;
        }
        while (slot >= _capacity)
        {
            if (_chunkCount == _chunks.Length) Array.Resize(ref _chunks, _chunks.Length * 2);
            _chunks[_chunkCount++] = HugePageArray.AllocateBytes(CodeBytes(chunkSlots));
            _capacity = (int)Math.Min(int.MaxValue, (long)_chunkCount * chunkSlots);
        }
        // Grown by half at a time, not to the exact size: chunks come often, and a scan stops at the high water.
        _live.EnsureCapacity(_capacity, grow: true);
    }

    /// <inheritdoc />
    public override void Add(int slot, ReadOnlySpan<float> vector)
    {
        EnsureCapacity(slot);
        if (_blocks is null) Codec.Encode(vector, Codes(_chunks, slot, 1));
        else
        {
            Span<byte> code = stackalloc byte[Codec.CodeSize];
            Codec.Encode(vector, code);
            _blocks.SetBlockCode(BlockOf(slot), slot % _blocks.BlockVectors, code);
        }
        MarkLive(slot);
    }

    private void MarkLive(int slot)
    {
        if (_live.Add(slot)) _count++;
        if (slot >= _highWater) _highWater = slot + 1;
    }

    /// <inheritdoc />
    public override void AddBatch(ReadOnlySpan<int> slots, VectorMatrix vectors, int threads)
    {
        if (slots.Length == 0) return;
        int max = 0;
        foreach (var s in slots) max = Math.Max(max, s);
        EnsureCapacity(max);
        var slotArray = slots.ToArray();
        int size = Codec.CodeSize;
        var chunks = _chunks;
        var po = EngineParallel.Options(threads);
        if (_blocks is not null)
        {
            // Encode in parallel, pack serially: neighbouring slots share bytes of a block.
            var encoded = new byte[(long)slotArray.Length * size];
            Parallel.For(0, slotArray.Length, po, i => Codec.Encode(vectors.Row(i), encoded.AsSpan(i * size, size)));
            for (int i = 0; i < slotArray.Length; i++)
                _blocks.SetBlockCode(BlockOf(slotArray[i]), slotArray[i] % _blocks.BlockVectors, encoded.AsSpan(i * size, size));
        }
        else Parallel.For(0, slotArray.Length, po, i => Codec.Encode(vectors.Row(i), Codes(chunks, slotArray[i], 1)));
        foreach (var s in slotArray) MarkLive(s);
    }

    /// <inheritdoc />
    public override void Remove(int slot)
    {
        if (slot >= 0 && _live.Remove(slot)) _count--;
    }

    /// <inheritdoc />
    public override void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results)
    {
        var scratch = _scratch.Value!;
        var scorer = scratch.Scorer;
        scorer.SetQuery(query);
        int size = Codec.CodeSize;
        var chunks = _chunks;
        // The scans test the words inline (one load and mask per candidate).
        var live = _live.Words;
        int end = _highWater;
        if (filter is not null && filter.Count < end / 16)
        {
            // A selective filter: score only the matching slots instead of scanning everything.
            Span<byte> one = _blocks is null ? default : stackalloc byte[size];
            foreach (int slot in filter.Slots())
            {
                if (slot >= end || (live[slot >> 6] & (1UL << (slot & 63))) == 0) continue;
                if (_blocks is null) results.Push(slot, scorer.Distance(Codes(chunks, slot, 1)));
                else
                {
                    _blocks.GetBlockCode(BlockOf(slot), slot % _blocks.BlockVectors, one);
                    results.Push(slot, scorer.Distance(one));
                }
            }
            return;
        }
        var dist = scratch.Distances;
        var blockScorer = _blocks is null ? null : (IBlockScorer)scorer;
        for (int start = 0; start < end; start += BlockSize)
        {
            int n = Math.Min(BlockSize, end - start);
            if (blockScorer is not null)
            {
                // BlockSize is a multiple of the block length, so every chunk starts on a block boundary. Only codes
                // that can beat the heap's current threshold come back (pruned on the integer sums).
                var pos = scratch.Positions;
                int found = blockScorer.ScanBlocksBelow(Codes(chunks, start, n), n, results.Threshold, pos, dist);
                for (int j = 0; j < found; j++)
                {
                    int slot = start + pos[j];
                    if ((live[slot >> 6] & (1UL << (slot & 63))) == 0) continue;
                    if (filter is not null && !filter.Contains(slot)) continue;
                    results.Push(slot, dist[j]);
                }
                continue;
            }
            scorer.DistanceBatch(Codes(chunks, start, n), size, dist.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                int slot = start + i;
                if ((live[slot >> 6] & (1UL << (slot & 63))) == 0) continue;
                if (filter is not null && !filter.Contains(slot)) continue;
                results.Push(slot, dist[i]);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// With block codes and a batch scorer, each chunk of <see cref="BlockSize"/> codes is scored for every query of
    /// a <see cref="VectorIndex.BatchChunk"/> while it sits in L1, and thresholds are read per chunk as
    /// <see cref="Search"/> reads them, so every heap receives the same pushes as in a search of its own.
    /// </remarks>
    public override void SearchBatch(ReadOnlySpan<float> queries, in IndexSearchParameters parameters, ReadOnlySpan<TopK> results)
    {
        if (results.Length == 0) return;
        int dim = CheckBatch(queries, results.Length);
        var scratch = _scratch.Value!;
        var batch = _blocks is null ? null : scratch.Batch ??= Codec.CreateBatchScorer(DistanceKind, BatchChunk);
        if (batch is null)
        {
            base.SearchBatch(queries, parameters, results);
            return;
        }
        var live = _live.Words;
        int end = _highWater;
        var chunks = _chunks;
        var (members, thresholds, found, pos, dist) = scratch.BatchBuffers();
        for (int q0 = 0; q0 < results.Length; q0 += BatchChunk)
        {
            int nq = Math.Min(BatchChunk, results.Length - q0);
            for (int i = 0; i < nq; i++) batch.SetQuery(i, queries.Slice((q0 + i) * dim, dim));
            var heaps = results.Slice(q0, nq);
            for (int start = 0; start < end; start += BlockSize)
            {
                int n = Math.Min(BlockSize, end - start);
                var chunk = Codes(chunks, start, n);
                // A group of rows at a time, so the per-row outputs stay a few KiB.
                for (int g0 = 0; g0 < nq; g0 += BatchGroup)
                {
                    int gs = Math.Min(BatchGroup, nq - g0);
                    for (int g = 0; g < gs; g++) thresholds[g] = heaps[g0 + g].Threshold;
                    batch.ScanBlocksBelow(members.AsSpan(g0, gs), chunk, n, thresholds.AsSpan(0, gs), pos, dist, found);
                    for (int g = 0; g < gs; g++)
                    {
                        var heap = heaps[g0 + g];
                        for (int j = g * n, stop = j + found[g]; j < stop; j++)
                        {
                            int slot = start + pos[j];
                            if ((live[slot >> 6] & (1UL << (slot & 63))) != 0) heap.Push(slot, dist[j]);
                        }
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        writer.Write((byte)DistanceKind);
        CodecRegistry.Write(Codec, writer);
        writer.Write(_highWater);
        writer.Write(_count);
        var live = _live.Words;
        for (int w = 0; w < SlotBitmap.WordsFor(_highWater); w++) writer.Write(live[w]);
        if (_blocks is null)
        {
            for (int start = 0; start < _highWater; start += _chunkMask + 1)
                writer.Write(Codes(_chunks, start, Math.Min(_chunkMask + 1, _highWater - start)));
            return;
        }
        // Snapshots hold one code per slot whatever the in-memory layout.
        var code = new byte[Codec.CodeSize];
        for (int s = 0; s < _highWater; s++)
        {
            _blocks.GetBlockCode(BlockOf(s), s % _blocks.BlockVectors, code);
            writer.Write(code);
        }
    }

    internal static FlatIndex Read(BinaryReader reader)
    {
        var kind = (DistanceKind)reader.ReadByte();
        var codec = CodecRegistry.Read(reader);
        int high = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (high < 0 || count < 0 || count > high) throw new InvalidDataException("flat index: bad counts");
        var index = new FlatIndex(codec, kind, Math.Max(high, 64));
        var live = index._live.Words;
        for (int w = 0; w < SlotBitmap.WordsFor(high); w++) live[w] = reader.ReadUInt64();
        if (index._blocks is null)
        {
            for (int start = 0; start < high; start += index._chunkMask + 1)
            {
                var codes = index.Codes(index._chunks, start, Math.Min(index._chunkMask + 1, high - start));
                for (int done = 0, got; done < codes.Length; done += got)
                    if ((got = reader.Read(codes[done..])) == 0) throw new EndOfStreamException("flat index: codes truncated");
            }
        }
        else
        {
            var code = new byte[codec.CodeSize];
            for (int s = 0; s < high; s++)
            {
                if (reader.Read(code, 0, code.Length) != code.Length) throw new EndOfStreamException("flat index: codes truncated");
                index._blocks.SetBlockCode(index.BlockOf(s), s % index._blocks.BlockVectors, code);
            }
        }
        index._highWater = high;
        index._count = count;
        return index;
    }

    private sealed class Scratch(CodeScorer scorer)
    {
        public CodeScorer Scorer { get; } = scorer;
        public float[] Distances { get; } = new float[BlockSize];
        public int[] Positions { get; } = new int[BlockSize];

        /// <summary>The batched search's scorer, made on this thread's first batch.</summary>
        public BlockBatchScorer? Batch { get; set; }

        private (int[], float[], int[], int[], float[])? _batch;

        /// <summary>Member indexes 0…, and per-member thresholds, counts, candidate positions and distances of one group.</summary>
        public (int[] Members, float[] Thresholds, int[] Found, int[] Positions, float[] Distances) BatchBuffers() =>
            _batch ??= (Enumerable.Range(0, BatchChunk).ToArray(), new float[BatchGroup], new int[BatchGroup],
                new int[BatchGroup * BlockSize], new float[BatchGroup * BlockSize]);
    }
}
