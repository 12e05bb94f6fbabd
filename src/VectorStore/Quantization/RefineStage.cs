using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Memory;
using VectorStore.Ranking;

namespace VectorStore.Quantization;

/// <summary>
/// The second, in-RAM stage of a search (<c>CollectionOptions.Refine</c>): a finer code per slot (a rotation code
/// <c>rq:B</c>, or <c>sq8</c>) whose scorer bounds its own error (<see cref="IBoundedScorer"/>), so of the index's
/// candidates only those whose interval straddles the k-th best are read at full precision.
/// </summary>
/// <remarks>
/// Decision rule, for candidate intervals [e − b, e + b]: with U the k-th smallest upper end, a candidate whose lower
/// end exceeds U cannot be among the k best and is dropped unread; one that fewer than k others could beat (fewer
/// than k lower ends below its upper end) is certainly among them and keeps its estimate; the rest are read, one at
/// a time, each read narrowing its interval to a point and re-deciding the others (<see cref="RefineSelection"/>). The
/// bounds cover 3 standard deviations of the estimate (<see cref="RotationScorer.BoundSigmas"/>,
/// <see cref="ScalarQuantizer.BoundSigmas"/>), so a wrong call is a 0.3 %-per-candidate event, not a systematic one. Thread-safety: encoding happens under the collection's write lock,
/// scoring under its read lock with one scorer per thread.
/// </remarks>
internal sealed class RefineStage
{
    private readonly ThreadLocal<Scratch> _scratch;
    private readonly DistanceKind _kind;
    private readonly int _codeSize;

    // Chunked: one array would stop at 2 GiB (about 5.5M sq8 codes of 384 dimensions), and a growing chunk copies
    // only itself.
    private readonly ChunkedArray<byte> _codes;

    /// <summary>Bytes a full chunk holds at most (fewer slots per chunk for larger codes).</summary>
    internal const int ChunkBytesLimit = 32 << 20;

    private RefineStage(VectorCodec codec, DistanceKind kind, int chunkBytes = ChunkBytesLimit)
    {
        Codec = codec;
        _kind = kind;
        _codeSize = codec.CodeSize;
        _codes = new ChunkedArray<byte>(Math.Max(1, _codeSize), chunkBytes);
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(codec.CreateScorer(kind)));
    }

    /// <summary>Slots per chunk.</summary>
    internal int ChunkSlots => _codes.ItemsPerChunk;

    /// <summary>The refine codec.</summary>
    public VectorCodec Codec { get; }

    /// <summary>Trains the codec of <paramref name="spec"/> on <paramref name="sample"/>.</summary>
    /// <remarks>
    /// sq8 is trained without clipping (<see cref="ScalarQuantizer.TrainForBound"/>): a clipped coordinate errs by more
    /// than the bound covers, so its code is read at full precision, and with the primary sq8's clipping (0.05 % per
    /// tail) about a quarter of the text set's candidates had one (25.5 reads per query of 100). Tests pass a small
    /// <c>chunkBytes</c> (bytes of a full chunk of codes) to cross chunk ends.
    /// </remarks>
    public static RefineStage Train(CompressionSpec spec, VectorMatrix sample, DistanceKind kind, TrainingContext context, int chunkBytes = ChunkBytesLimit) =>
        new(spec.Quantizer.Name == "sq8" && spec.Stages.Count == 1
            ? ScalarQuantizer.TrainForBound(sample, spec.Quantizer.Argument == "pv")
            : CodecRegistry.Train(spec, sample, kind, context), kind, chunkBytes);

    /// <summary>
    /// Makes room for the codes of slots [0, <paramref name="slots"/>) at their final size: a build that then encodes
    /// every live slot leaves no spare room behind (growing by a quarter at a time, a 50k build had allocated 508 B per
    /// vector for 388 B codes).
    /// </summary>
    public void Reserve(int slots) => _codes.Reserve(slots);

    /// <summary>Encodes <paramref name="vector"/> as the code of <paramref name="slot"/>.</summary>
    /// <remarks>The last chunk grows by a quarter (<see cref="ChunkedArray{T}"/>): at sq8's 388 bytes per 384-dimension
    /// vector, doubling could hold as many bytes again as the codes themselves.</remarks>
    public void Encode(int slot, ReadOnlySpan<float> vector)
    {
        _codes.EnsureCapacity(slot + 1);
        Codec.Encode(vector, _codes[slot]);
    }

    /// <summary>The code of <paramref name="slot"/> (encoded, or reserved and not yet written: zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> CodeOf(int slot) => _codes[slot];

    /// <summary>Bytes held by the codes and the codec's parameters.</summary>
    public long MemoryBytes
    {
        get
        {
            return Codec.ParameterBytes + _codes.MemoryBytes;
        }
    }

    /// <summary>
    /// Refines the candidates <paramref name="slots"/> (any order) for the best <paramref name="k"/> and pushes them
    /// into <paramref name="results"/>: certain ones with their estimates, the ones read from <paramref name="raw"/>
    /// with their exact distances. Returns the number read.
    /// </summary>
    /// <remarks>
    /// Reads one candidate at a time, the undecided one with the smallest estimate: each read collapses its interval
    /// to a point, which lowers the k-th upper end and settles others without reading them (<see cref="RefineSelection"/>).
    /// The codes and then the vectors undecided after the first pass are prefetched, so that the scoring and the
    /// one-at-a-time reads do not each wait for memory (measured in RAM on the text set: the 100 codes cost 16 µs
    /// scored cold, 2.5 µs warm; a lone read 650 ns, against 150 ns each in a prefetched batch).
    /// </remarks>
    public int Refine(ReadOnlySpan<float> query, ReadOnlySpan<int> slots, int k, TopK results, IExactVectors raw)
    {
        var s = _scratch.Value!;
        int count = slots.Length;
        var bounded = s.Bounded;
        s.Scorer.SetQuery(query);
        var sel = s.Selection;
        sel.Reset(count);
        int reads = 0;
        Span<float> distance = stackalloc float[1];
        int ahead = Math.Min(count, CodePrefetchDistance);
        for (int i = 0; i < ahead; i++) PrefetchCode(slots[i]);
        var (unboundedAt, exact) = s.Unbounded(count);
        var unboundedSlots = s.Hint(count); // free until the undecided candidates' hint below
        int unbounded = 0;
        for (int i = 0; i < count; i++)
        {
            if (i + ahead < count) PrefetchCode(slots[i + ahead]);
            float e = bounded.DistanceWithBound(CodeOf(slots[i]), out float b);
            if (float.IsFinite(e) && float.IsFinite(b))
            {
                sel.Set(i, e, b);
                continue;
            }
            // No usable interval (a degenerate code, or an sq8 code with a saturated, possibly clipped, coordinate):
            // the rule needs finite ends, so this one is read up front, with the others like it in one batch (its
            // reads prefetched together, as the undecided ones' are below).
            unboundedAt[unbounded] = i;
            unboundedSlots[unbounded++] = slots[i];
        }
        if (unbounded > 0)
        {
            raw.ComputeDistances(_kind, query, unboundedSlots[..unbounded], exact.AsSpan(0, unbounded));
            for (int u = 0; u < unbounded; u++) sel.SetExact(unboundedAt[u], exact[u]);
            reads += unbounded;
        }
        sel.Start(k);
        var undecided = sel.Undecided;
        if (undecided.Length > 1)
        {
            var hint = s.Hint(undecided.Length);
            for (int u = 0; u < undecided.Length; u++) hint[u] = slots[undecided[u]];
            raw.Prefetch(hint);
        }
        for (int pick; (pick = sel.Next()) >= 0; reads++)
        {
            raw.ComputeDistances(_kind, query, slots.Slice(pick, 1), distance);
            sel.Resolve(pick, distance[0]);
        }
        foreach (int i in sel.Survivors) results.Push(slots[i], sel.Distance(i));
        return reads;
    }

    /// <summary>
    /// Codes requested ahead of the one being scored: enough in flight to cover a DRAM miss per code (a 4-bit code
    /// of 384 dimensions is four cache lines) without crowding the core's outstanding-miss slots.
    /// </summary>
    private const int CodePrefetchDistance = 8;

    /// <summary>Requests the cache lines of one slot's code into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchCode(int slot) => CachePrefetch.ToL1(ref MemoryMarshal.GetReference(CodeOf(slot)), _codeSize);

    /// <summary>Writes the codec and the codes of slots [0, <paramref name="highWater"/>) (free slots included: their bytes are stale and unread).</summary>
    public void Write(BinaryWriter w, int highWater)
    {
        CodecRegistry.Write(Codec, w);
        w.Write(_codeSize);
        w.Write((long)highWater * _codeSize);
        for (int c = 0; c < _codes.SegmentCount(highWater); c++)
        {
            var stored = _codes.Segment(c, highWater);
            w.Write(stored);
            // Slots above the last one ever encoded (free since training) have no code yet: zeros, never read.
            int missing = _codes.SegmentLength(c, highWater) - stored.Length;
            if (missing > 0) w.Write(new byte[missing]);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    /// <remarks>The chunking is not stored: codes written with one chunk size read back with any other.</remarks>
    public static RefineStage Read(BinaryReader r, int highWater, DistanceKind kind, string path, int chunkBytes = ChunkBytesLimit)
    {
        var codec = CodecRegistry.Read(r);
        int size = r.ReadInt32();
        long bytes = r.ReadInt64();
        if (size != codec.CodeSize || highWater < 0 || bytes != (long)highWater * size)
            throw new StoreCorruptedException(path, $"refine codes: {bytes} bytes of {size}-byte codes for {highWater} slots (codec code size {codec.CodeSize})");
        var stage = new RefineStage(codec, kind, chunkBytes);
        stage._codes.Reserve(highWater);
        for (int c = 0; c < stage._codes.SegmentCount(highWater); c++)
        {
            var segment = stage._codes.Segment(c, highWater);
            if (r.BaseStream.ReadAtLeast(segment, segment.Length, throwOnEndOfStream: false) != segment.Length || segment.Length != stage._codes.SegmentLength(c, highWater))
                throw new StoreCorruptedException(path, "refine codes are truncated");
        }
        return stage;
    }

    /// <summary>One search thread's scorer and buffers.</summary>
    private sealed class Scratch(CodeScorer scorer)
    {
        private int[] _hint = [];

        public CodeScorer Scorer { get; } = scorer;

        public IBoundedScorer Bounded { get; } = (IBoundedScorer)scorer;

        public RefineSelection Selection { get; } = new();

        private int[] _unboundedAt = [];
        private float[] _exact = [];

        /// <summary>Buffers for up to <paramref name="n"/> candidates without a bound: their positions and exact distances.</summary>
        public (int[] At, float[] Exact) Unbounded(int n)
        {
            if (_unboundedAt.Length < n)
            {
                int size = Math.Max(n, 2 * _unboundedAt.Length);
                (_unboundedAt, _exact) = (new int[size], new float[size]);
            }
            return (_unboundedAt, _exact);
        }

        /// <summary>A buffer of at least <paramref name="n"/> slots for a prefetch hint.</summary>
        public Span<int> Hint(int n)
        {
            if (_hint.Length < n) _hint = new int[Math.Max(n, 2 * _hint.Length)];
            return _hint.AsSpan(0, n);
        }
    }
}
