using VectorStore.Clustering;
using VectorStore.Ranking;

namespace VectorStore.Quantization;

/// <summary>
/// The second, in-RAM stage of a search (<c>CollectionOptions.Refine</c>): a finer rotation code per slot
/// whose scorer bounds its own error, so of the index's candidates only those whose interval straddles the k-th
/// best are read at full precision.
/// </summary>
/// <remarks>
/// Decision rule, for candidate intervals [e − b, e + b]: with U the k-th smallest upper end, a candidate whose lower
/// end exceeds U cannot be among the k best and is dropped unread; one that fewer than k others could beat (fewer
/// than k lower ends below its upper end) is certainly among them and keeps its estimate; the rest are read, one at
/// a time, each read narrowing its interval to a point and re-deciding the others. The
/// bound covers 3 standard deviations of the estimate (<see cref="RotationScorer.BoundSigmas"/>), so a wrong call is a
/// 0.3 %-per-candidate event, not a systematic one. Thread-safety: encoding happens under the collection's write lock,
/// scoring under its read lock with one scorer per thread.
/// </remarks>
internal sealed class RefineStage
{
    private readonly ThreadLocal<Scratch> _scratch;
    private byte[] _codes = [];

    private RefineStage(VectorCodec codec, DistanceKind kind)
    {
        Codec = codec;
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(codec.CreateScorer(kind)));
    }

    /// <summary>The refine codec.</summary>
    public VectorCodec Codec { get; }

    /// <summary>Trains the codec of <paramref name="spec"/> on <paramref name="sample"/>.</summary>
    public static RefineStage Train(CompressionSpec spec, VectorMatrix sample, DistanceKind kind, TrainingContext context) =>
        new(CodecRegistry.Train(spec, sample, kind, context), kind);

    /// <summary>Encodes <paramref name="vector"/> as the code of <paramref name="slot"/>.</summary>
    public void Encode(int slot, ReadOnlySpan<float> vector)
    {
        int size = Codec.CodeSize;
        long need = (long)(slot + 1) * size;
        if (need > _codes.Length) Array.Resize(ref _codes, (int)Math.Min(Array.MaxLength, Math.Max(need, Math.Max(_codes.Length * 2L, 1024L * size))));
        Codec.Encode(vector, _codes.AsSpan(slot * size, size));
    }

    /// <summary>Bytes held by the codes and the codec's parameters.</summary>
    public long MemoryBytes => _codes.Length + Codec.ParameterBytes;

    /// <summary>
    /// Refines <paramref name="count"/> candidates (<paramref name="slots"/>, any order) for the best
    /// <paramref name="k"/> and pushes them into <paramref name="results"/>: certain ones with their estimates, the
    /// ones read through <paramref name="exact"/> with their exact distances. Returns the number read.
    /// </summary>
    /// <remarks>
    /// Reads one candidate at a time, the undecided one with the smallest estimate: each read collapses its interval
    /// to a point, which lowers the k-th upper end and settles others without reading them.
    /// </remarks>
    public int Refine(ReadOnlySpan<float> query, Span<int> slots, int count, int k, TopK results, ExactDistances exact)
    {
        var s = _scratch.Value!;
        s.Ensure(count);
        var scorer = s.Scorer;
        var bounded = (IBoundedScorer)scorer;
        scorer.SetQuery(query);
        int size = Codec.CodeSize;
        var lo = s.Lower;
        var hi = s.Upper;
        var est = s.Estimate;
        var active = s.Active;
        for (int i = 0; i < count; i++)
        {
            float e = bounded.DistanceWithBound(_codes.AsSpan(slots[i] * size, size), out float b);
            est[i] = e;
            lo[i] = e - b;
            hi[i] = e + b;
            active[i] = i;
        }
        int n = count, kk = Math.Min(k, count), reads = 0;
        var sortedHi = s.SortedUpper;
        var sortedLo = s.SortedLower;
        Span<int> one = stackalloc int[1];
        Span<float> oneDistance = stackalloc float[1];
        while (true)
        {
            // U: the k-th smallest upper end. A candidate whose lower end exceeds it cannot be among the k best.
            for (int a = 0; a < n; a++) sortedHi[a] = hi[active[a]];
            sortedHi.AsSpan(0, n).Sort();
            float u = sortedHi[kk - 1];
            int kept = 0;
            for (int a = 0; a < n; a++)
                if (lo[active[a]] <= u) active[kept++] = active[a];
            n = kept;
            for (int a = 0; a < n; a++) sortedLo[a] = lo[active[a]];
            sortedLo.AsSpan(0, n).Sort();
            // Undecided: estimated (not read) and at least k others could be closer. Read the likeliest first.
            int pick = -1;
            for (int a = 0; a < n; a++)
            {
                int i = active[a];
                if (lo[i] == hi[i]) continue; // read (or a zero-width estimate): known
                int couldBeat = SortedSearch.LowerBound(sortedLo.AsSpan(0, n), hi[i]) - 1; // minus itself: lo[i] < hi[i]
                if (couldBeat >= kk && (pick < 0 || est[i] < est[pick])) pick = i;
            }
            if (pick < 0) break;
            one[0] = slots[pick];
            exact(query, one, oneDistance);
            est[pick] = lo[pick] = hi[pick] = oneDistance[0];
            reads++;
        }
        for (int a = 0; a < n; a++) results.Push(slots[active[a]], est[active[a]]);
        return reads;
    }

    /// <summary>Exact distances from the query to the vectors of <c>slots</c> (a full-precision read).</summary>
    public delegate void ExactDistances(ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances);

    /// <summary>Writes the codec and the codes of slots [0, <paramref name="highWater"/>) (free slots included: their bytes are stale and unread).</summary>
    public void Write(BinaryWriter w, int highWater)
    {
        CodecRegistry.Write(Codec, w);
        int size = Codec.CodeSize;
        w.Write(size);
        long bytes = (long)highWater * size;
        w.Write(bytes);
        int stored = (int)Math.Min(bytes, _codes.Length);
        w.Write(_codes, 0, stored);
        // Slots above the last one ever encoded (free since training) have no code yet: zeros, never read.
        if (bytes > stored) w.Write(new byte[bytes - stored]);
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static RefineStage Read(BinaryReader r, int highWater, DistanceKind kind, string path)
    {
        var codec = CodecRegistry.Read(r);
        int size = r.ReadInt32();
        long bytes = r.ReadInt64();
        if (size != codec.CodeSize || bytes != (long)highWater * size || bytes > Array.MaxLength)
            throw new StoreCorruptedException(path, $"refine codes: {bytes} bytes of {size}-byte codes for {highWater} slots (codec code size {codec.CodeSize})");
        var stage = new RefineStage(codec, kind) { _codes = r.ReadBytes((int)bytes) };
        if (stage._codes.Length != bytes) throw new StoreCorruptedException(path, "refine codes are truncated");
        return stage;
    }

    private sealed class Scratch(CodeScorer scorer)
    {
        public CodeScorer Scorer { get; } = scorer;
        public float[] Lower = [], Upper = [], Estimate = [], SortedLower = [], SortedUpper = [];
        public int[] Active = [];

        public void Ensure(int n)
        {
            if (Lower.Length >= n) return;
            Lower = new float[n]; Upper = new float[n]; Estimate = new float[n];
            SortedLower = new float[n]; SortedUpper = new float[n]; Active = new int[n];
        }
    }
}
