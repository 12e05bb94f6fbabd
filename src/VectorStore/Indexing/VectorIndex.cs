using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Indexing;

/// <summary>
/// An index over compressed codes. It owns its codec and its codes; the collection owns ids, payloads and the
/// full-precision vectors, and refers to entries by dense integer slots.
/// </summary>
/// <remarks>
/// Thread-safety: unless an implementation says more, <see cref="Search"/> may run on many threads at once, and
/// mutations (<see cref="Add"/>, <see cref="Remove"/>) must be serialized with each other and with searches by the
/// caller (the collection holds a reader/writer lock).
/// </remarks>
public abstract class VectorIndex
{
    /// <summary>The canonical index spec (<c>flat</c>, <c>ivf:256</c>, <c>hnsw:16</c>).</summary>
    public abstract string Spec { get; }

    /// <summary>Registry name.</summary>
    public abstract string Kind { get; }

    /// <summary>The codec the index scores with.</summary>
    public abstract VectorCodec Codec { get; }

    /// <summary>Distance used for scoring.</summary>
    public abstract DistanceKind DistanceKind { get; }

    /// <summary>Number of live entries.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// Resident bytes of codes and index structures (links, lists, centroids, codebooks), not counting full-precision
    /// vectors kept for re-ranking.
    /// </summary>
    public abstract long MemoryBytes { get; }

    /// <summary>Whether this index honours <see cref="Search"/>'s own filter (else the collection post-filters).</summary>
    public virtual bool SupportsFilter => true;

    /// <summary>
    /// Whether <see cref="Search"/> may run while <see cref="Add"/>, <see cref="AddBatch"/> or <see cref="Remove"/> are in
    /// progress (the index synchronizes itself); the collection then keeps serving searches during inserts.
    /// </summary>
    public virtual bool SupportsConcurrentSearch => false;

    /// <summary>
    /// The most slots (0 … MaxSlots − 1) this index can hold in memory: an index that keeps its codes or links in
    /// one array per kind stops where that array would pass <see cref="Array.MaxLength"/> elements
    /// (<see cref="ArraySlots"/>). Growing past it throws <see cref="InvalidArgumentException"/>, and a collection asks
    /// <see cref="CheckRoom"/> before it logs a write. <see cref="int.MaxValue"/> when only slot numbers limit it.
    /// </summary>
    public int MaxSlots => Math.Min(ArraySlots, MaxSlotsForTests);

    /// <summary>What this index's single arrays allow (see <see cref="MaxSlots"/>).</summary>
    protected virtual int ArraySlots => int.MaxValue;

    /// <summary>Lowers <see cref="MaxSlots"/> so tests reach it without gigabytes of codes.</summary>
    internal int MaxSlotsForTests { get; set; } = int.MaxValue;

    /// <summary>
    /// Throws <see cref="InvalidArgumentException"/> unless <paramref name="rows"/> more rows (new ones or
    /// replacements) fit, with slots up to <paramref name="highWater"/> − 1. A collection calls it under its write
    /// lock before logging a batch: a logged batch that cannot be applied would fail again at every replay. Indexes
    /// whose entries are not slots (graph nodes, list positions) add their own condition.
    /// </summary>
    public virtual void CheckRoom(long highWater, int rows)
    {
        if (highWater > MaxSlots) throw CapacityError(highWater, $"its slots are limited to {MaxSlots:N0}");
    }

    /// <summary>The error of a write or build past this index's capacity: what limits it, and what holds more.</summary>
    protected InvalidArgumentException CapacityError(long needed, string what) =>
        new($"index {Spec} over {Codec.Spec} holds at most {MaxSlots:N0} vectors in memory ({what}; an array holds at most {Array.MaxLength:N0} elements); " +
            $"{needed:N0} were asked for, and nothing of this write or build was kept. Use a smaller code, or split the data over several collections");

    /// <summary>Adds (or replaces) the vector at <paramref name="slot"/>.</summary>
    public abstract void Add(int slot, ReadOnlySpan<float> vector);

    /// <summary>Adds many vectors; the default calls <see cref="Add"/> in order, indexes that can build in parallel override it.</summary>
    public virtual void AddBatch(ReadOnlySpan<int> slots, VectorMatrix vectors, int threads)
    {
        for (int i = 0; i < slots.Length; i++) Add(slots[i], vectors.Row(i));
    }

    /// <summary>Removes <paramref name="slot"/>; unknown slots are ignored.</summary>
    public abstract void Remove(int slot);

    /// <summary>
    /// Pushes the best candidates for <paramref name="query"/> (already normalized for cosine) into
    /// <paramref name="results"/>, whose capacity says how many are wanted. Distances are the codec's estimates.
    /// </summary>
    public abstract void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results);

    /// <summary>
    /// <see cref="Search"/> for <c>results.Length</c> queries at once, without a filter: <paramref name="queries"/> holds
    /// them row after row (each prepared as for <see cref="Search"/>), and <c>results[i]</c> receives query i's
    /// candidates — the entries <see cref="Search"/> would give it. The default searches them one by one; indexes over
    /// block codes with a <see cref="VectorCodec.CreateBatchScorer"/> score each block for several queries per pass.
    /// </summary>
    public virtual void SearchBatch(ReadOnlySpan<float> queries, in IndexSearchParameters parameters, ReadOnlySpan<TopK> results)
    {
        if (results.Length == 0) return;
        int dim = CheckBatch(queries, results.Length);
        for (int i = 0; i < results.Length; i++) Search(queries.Slice(i * dim, dim), parameters, null, results[i]);
    }

    /// <summary>The dimension of a batch of <paramref name="count"/> queries held row after row in <paramref name="queries"/>.</summary>
    private protected int CheckBatch(ReadOnlySpan<float> queries, int count)
    {
        if (count <= 0 || queries.Length % count != 0 || queries.Length / count != Codec.Dimension)
            throw new InvalidVectorException($"a batch of {count} queries needs {count} × {Codec.Dimension} floats, got {queries.Length}");
        return Codec.Dimension;
    }

    /// <summary>Queries a batched search sets up at once (batches are searched in chunks of this many).</summary>
    private protected const int BatchChunk = 64;

    /// <summary>Queries a batched scan scores per call (the widest kernel group, four with AVX-512).</summary>
    private protected const int BatchGroup = 4;

    /// <summary>
    /// Whether a snapshot may keep an older copy of this index and list the slots changed since (data-format.md §4.10),
    /// recovery removing those slots and adding their current vectors again: true where that is cheap and rebuilds the
    /// same entries (flat: encode; IVF: nearest list + encode), false where an insertion is costly or depends on the
    /// order of insertions (HNSW, which writes change images instead: <see cref="WritesChangeImages"/>).
    /// </summary>
    internal virtual bool ReplaysChanges => false;

    /// <summary>Changes whenever the index is restructured in a way re-adding slots cannot reproduce (an IVF rebalance).</summary>
    internal virtual long StructureRevision => 0;

    /// <summary>
    /// Whether the index can record which of its parts changed and write them as a change image (data-format.md §3.4)
    /// that, applied to an image written by <see cref="Write"/> after <see cref="StartChangeImage"/>, gives the index
    /// as it is now: HNSW, whose insertions are too costly and order-dependent to replay, writes the nodes it touched.
    /// </summary>
    internal virtual bool WritesChangeImages => false;

    /// <summary>
    /// Forgets the changes recorded so far and starts recording again. Called just before <see cref="Write"/> writes
    /// the image the changes will apply to; a change made in between is in both, which is harmless (an image of a
    /// part replaces it whole).
    /// </summary>
    internal virtual void StartChangeImage() => throw new NotSupportedException($"{Kind} writes no change images");

    /// <summary>Whether changes are being recorded (<see cref="StartChangeImage"/> ran on this object or it was restored with one).</summary>
    internal virtual bool RecordsChanges => false;

    /// <summary>About how many bytes <see cref="WriteChanges"/> would write now.</summary>
    internal virtual long ChangeImageBytes => 0;

    /// <summary>Writes every part changed since <see cref="StartChangeImage"/> (cumulative: not reset by writing).</summary>
    internal virtual void WriteChanges(BinaryWriter writer) => throw new NotSupportedException($"{Kind} writes no change images");

    /// <summary>
    /// Applies <see cref="WriteChanges"/>' image to this index, just read from the image it was recorded against and
    /// not yet seen by any other thread, and keeps recording on top of it (the next image stays cumulative).
    /// Malformed input is an <see cref="InvalidDataException"/>.
    /// </summary>
    internal virtual void ApplyChanges(BinaryReader reader) => throw new NotSupportedException($"{Kind} reads no change images");

    /// <summary>Writes the whole index (codec included) for a snapshot.</summary>
    public abstract void Write(BinaryWriter writer);
}
