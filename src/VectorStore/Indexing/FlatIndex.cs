using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>
/// Exhaustive scan over codes stored contiguously by slot. Scores blocks of codes with the codec's batch kernel,
/// keeps the best in a bounded heap, and allocates nothing per candidate. Thread-safety: searches run concurrently;
/// mutations are serialized by the caller (see <see cref="VectorIndex"/>).
/// </summary>
public sealed class FlatIndex : VectorIndex
{
    private const int BlockSize = 256;
    private readonly ThreadLocal<Scratch> _scratch;
    private byte[] _codes;
    private ulong[] _live;
    private int _capacity;
    private int _count;
    private int _highWater;

    /// <summary>Creates an empty flat index over <paramref name="codec"/>.</summary>
    public FlatIndex(VectorCodec codec, DistanceKind kind, int initialCapacity = 1024)
    {
        Codec = codec;
        DistanceKind = kind;
        _capacity = Math.Max(64, initialCapacity);
        _codes = new byte[(long)_capacity * codec.CodeSize];
        _live = new ulong[(_capacity + 63) >> 6];
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
    public override long MemoryBytes => (long)_count * Codec.CodeSize + Codec.ParameterBytes;

    private bool IsLive(int slot) => (_live[slot >> 6] & (1UL << (slot & 63))) != 0;

    private void EnsureCapacity(int slot)
    {
        if (slot < _capacity) return;
        int cap = _capacity;
        while (cap <= slot) cap = checked(cap * 2);
        Array.Resize(ref _codes, checked(cap * Codec.CodeSize));
        Array.Resize(ref _live, (cap + 63) >> 6);
        _capacity = cap;
    }

    /// <inheritdoc />
    public override void Add(int slot, ReadOnlySpan<float> vector)
    {
        EnsureCapacity(slot);
        Codec.Encode(vector, _codes.AsSpan(slot * Codec.CodeSize, Codec.CodeSize));
        MarkLive(slot);
    }

    private void MarkLive(int slot)
    {
        if (!IsLive(slot))
        {
            _live[slot >> 6] |= 1UL << (slot & 63);
            _count++;
        }
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
        var codes = _codes;
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, slotArray.Length, po, i => Codec.Encode(vectors.Row(i), codes.AsSpan(slotArray[i] * size, size)));
        foreach (var s in slotArray) MarkLive(s);
    }

    /// <inheritdoc />
    public override void Remove(int slot)
    {
        if (slot < 0 || slot >= _capacity || !IsLive(slot)) return;
        _live[slot >> 6] &= ~(1UL << (slot & 63));
        _count--;
    }

    /// <inheritdoc />
    public override void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results)
    {
        var scratch = _scratch.Value!;
        var scorer = scratch.Scorer;
        scorer.SetQuery(query);
        int size = Codec.CodeSize;
        var codes = _codes;
        var live = _live;
        int end = _highWater;
        if (filter is not null && filter.Count < end / 16)
        {
            // A selective filter: score only the matching slots instead of scanning everything.
            foreach (int slot in filter.Slots())
            {
                if (slot >= end || (live[slot >> 6] & (1UL << (slot & 63))) == 0) continue;
                results.Push(slot, scorer.Distance(codes.AsSpan(slot * size, size)));
            }
            return;
        }
        var dist = scratch.Distances;
        for (int start = 0; start < end; start += BlockSize)
        {
            int n = Math.Min(BlockSize, end - start);
            scorer.DistanceBatch(codes.AsSpan(start * size, n * size), size, dist.AsSpan(0, n));
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
    public override void Write(BinaryWriter writer)
    {
        writer.Write((byte)DistanceKind);
        CodecRegistry.Write(Codec, writer);
        writer.Write(_highWater);
        writer.Write(_count);
        for (int w = 0; w < (_highWater + 63) >> 6; w++) writer.Write(_live[w]);
        writer.Write(_codes, 0, _highWater * Codec.CodeSize);
    }

    internal static FlatIndex Read(BinaryReader reader)
    {
        var kind = (DistanceKind)reader.ReadByte();
        var codec = CodecRegistry.Read(reader);
        int high = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (high < 0 || count < 0 || count > high) throw new InvalidDataException("flat index: bad counts");
        var index = new FlatIndex(codec, kind, Math.Max(high, 64));
        for (int w = 0; w < (high + 63) >> 6; w++) index._live[w] = reader.ReadUInt64();
        int bytes = high * codec.CodeSize;
        if (reader.Read(index._codes, 0, bytes) != bytes) throw new EndOfStreamException("flat index: codes truncated");
        index._highWater = high;
        index._count = count;
        return index;
    }

    private sealed class Scratch(CodeScorer scorer)
    {
        public CodeScorer Scorer { get; } = scorer;
        public float[] Distances { get; } = new float[BlockSize];
    }
}

/// <summary>Registers <c>flat</c>.</summary>
public sealed class FlatIndexFactory : IIndexFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["flat"];

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        if (spec.Arguments.Count != 0) throw new InvalidArgumentException("'flat' takes no argument");
        return new FlatIndex(CodecRegistry.Train(compression, sample, kind, context), kind);
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => FlatIndex.Read(reader);
}
