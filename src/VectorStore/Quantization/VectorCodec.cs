using VectorStore.Threading;
namespace VectorStore.Quantization;

/// <summary>
/// A trained, immutable compression of <see cref="Dimension"/>-float vectors into <see cref="CodeSize"/>-byte codes,
/// plus the scorers indexes read those codes with: the asymmetric estimate (<see cref="CreateScorer"/>), the graph
/// walk's scorer that also gives code-vs-code distances (<see cref="CreateTraversalScorer"/>) and the per-list
/// residual scorer of IVF (<see cref="CreateResidualScorer"/>). Indexes ask the codec, never its concrete type.
/// </summary>
/// <remarks>
/// Thread-safety: a codec is immutable after training or loading, so <see cref="Encode"/>, <see cref="Decode"/> and
/// the <c>Create…Scorer</c> methods may be called from any number of threads. Each <see cref="CodeScorer"/> belongs to one
/// thread at a time.
/// </remarks>
public abstract class VectorCodec
{
    /// <summary>The canonical compression spec, e.g. <c>sq8</c>, <c>pq:48</c>, <c>pca:128+sq8</c>.</summary>
    public abstract string Spec { get; }

    /// <summary>Registry name of this codec's kind (the part of the spec before ':' of the last stage).</summary>
    public abstract string Kind { get; }

    /// <summary>Input dimension.</summary>
    public abstract int Dimension { get; }

    /// <summary>Bytes per code, including any per-vector correction terms.</summary>
    public abstract int CodeSize { get; }

    /// <summary>Bytes the trained parameters occupy in memory (codebooks, scales, matrices).</summary>
    public abstract long ParameterBytes { get; }

    /// <summary>Encodes one vector.</summary>
    public abstract void Encode(ReadOnlySpan<float> vector, Span<byte> code);

    /// <summary>Reconstructs an approximation of the vector a code stands for.</summary>
    public abstract void Decode(ReadOnlySpan<byte> code, Span<float> vector);

    /// <summary>A new scorer for <paramref name="kind"/>. Scorers are reusable across queries: call <see cref="CodeScorer.SetQuery"/>.</summary>
    public abstract CodeScorer CreateScorer(DistanceKind kind);

    /// <summary>
    /// A new scorer for walking a graph of these codes: it ranks neighbours and links nodes
    /// (<see cref="CodeScorer.SetQueryFromCode"/>), and its results are re-ranked afterwards, so it may trade a little
    /// accuracy for speed against <see cref="CreateScorer"/>. The default is <see cref="CreateScorer"/>.
    /// </summary>
    public virtual CodeScorer CreateTraversalScorer(DistanceKind kind) => CreateScorer(kind);

    /// <summary>
    /// A new scorer for codes that encode the residual x − c to a list centroid c (IVF with <c>residual</c>); the list
    /// is a per-list setting of the scorer (<see cref="ResidualScorer.SetList"/>).
    /// </summary>
    public ResidualScorer CreateResidualScorer(DistanceKind kind) => new(this, CreateScorer(kind), kind);

    /// <summary>
    /// Whether <see cref="CreateScorer"/>'s distances are the exact distances between the original vectors, so
    /// re-ranking candidates on the stored vectors cannot change an answer.
    /// </summary>
    public virtual bool EstimatesAreExact => false;

    /// <summary>
    /// The layout in which an index may store these codes packed in blocks for a block kernel (its scorers then
    /// implement <see cref="IBlockScorer"/>), or null when codes are stored one by one.
    /// </summary>
    public virtual IBlockCodec? BlockLayout => null;

    /// <summary>
    /// A new scorer that scans this codec's packed blocks for up to <paramref name="capacity"/> queries at once, or
    /// null when the codec has none (a batched search then scores its queries one by one).
    /// </summary>
    public virtual BlockBatchScorer? CreateBatchScorer(DistanceKind kind, int capacity) => null;

    /// <summary>Writes the trained parameters (without the kind tag; see <see cref="CodecRegistry.Write"/>).</summary>
    public abstract void WriteParameters(BinaryWriter writer);

    /// <summary>Encodes many vectors in parallel into <paramref name="codes"/> (Count × CodeSize bytes).</summary>
    public virtual void EncodeBatch(VectorMatrix vectors, byte[] codes, int threads = 0)
    {
        if (vectors.Dimension != Dimension)
            throw new InvalidVectorException($"expected dimension {Dimension}, got {vectors.Dimension}");
        int size = CodeSize;
        var po = EngineParallel.Options(threads);
        Parallel.For(0, vectors.Count, po, i => Encode(vectors.Row(i), codes.AsSpan(i * size, size)));
    }

    /// <summary>
    /// Symmetric distance between two codes. The default decodes both; codecs with a cheaper exact form override it.
    /// </summary>
    public virtual float CodeDistance(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, DistanceKind kind)
    {
        Span<float> x = Dimension <= 1024 ? stackalloc float[Dimension] : new float[Dimension];
        Span<float> y = Dimension <= 1024 ? stackalloc float[Dimension] : new float[Dimension];
        Decode(a, x);
        Decode(b, y);
        return Distance.Distances.Compute(kind, x, y);
    }
}
