namespace VectorStore.Quantization;

/// <summary>A transform followed by an inner codec; the composition behind specs like <c>pca:128+sq8</c>. Thread-safe.</summary>
public sealed class TransformedCodec : VectorCodec
{
    /// <summary>Composes <paramref name="transform"/> and <paramref name="inner"/>.</summary>
    public TransformedCodec(VectorTransform transform, VectorCodec inner)
    {
        if (transform.OutputDimension != inner.Dimension)
            throw new InvalidArgumentException($"transform outputs {transform.OutputDimension} dims, codec expects {inner.Dimension}");
        Transform = transform;
        Inner = inner;
    }

    /// <summary>The first stage.</summary>
    public VectorTransform Transform { get; }

    /// <summary>The rest.</summary>
    public VectorCodec Inner { get; }

    /// <inheritdoc />
    public override string Spec => $"{Transform.Spec}+{Inner.Spec}";

    /// <inheritdoc />
    public override string Kind => Inner.Kind;

    /// <inheritdoc />
    public override int Dimension => Transform.InputDimension;

    /// <inheritdoc />
    public override int CodeSize => Inner.CodeSize;

    /// <inheritdoc />
    public override long ParameterBytes => Transform.ParameterBytes + Inner.ParameterBytes;

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        Span<float> t = Inner.Dimension <= 2048 ? stackalloc float[Inner.Dimension] : new float[Inner.Dimension];
        Transform.Apply(vector, t);
        Inner.Encode(t, code);
    }

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        Span<float> t = Inner.Dimension <= 2048 ? stackalloc float[Inner.Dimension] : new float[Inner.Dimension];
        Inner.Decode(code, t);
        Transform.Invert(t, vector);
    }

    /// <inheritdoc />
    public override float CodeDistance(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, DistanceKind kind) => Inner.CodeDistance(a, b, kind);

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new Scorer(this, Inner.CreateScorer(kind));

    /// <inheritdoc />
    /// <remarks>Transform, then the inner codec's traversal scorer (so <c>pca:128+sq8</c> walks with the int8 kernel).</remarks>
    public override CodeScorer CreateTraversalScorer(DistanceKind kind) => new Scorer(this, Inner.CreateTraversalScorer(kind));

    /// <inheritdoc />
    public override IBlockCodec? BlockLayout => Inner.BlockLayout;

    /// <inheritdoc />
    /// <remarks>The inner codec's batch scorer, each query transformed as <see cref="CreateScorer"/> does it.</remarks>
    public override BlockBatchScorer? CreateBatchScorer(DistanceKind kind, int capacity) =>
        Inner.CreateBatchScorer(kind, capacity) is { } inner ? new BatchScorer(Transform, inner) : null;

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer) => throw new NotSupportedException("use CodecRegistry.Write");

    private sealed class BatchScorer(VectorTransform transform, BlockBatchScorer inner) : BlockBatchScorer
    {
        private readonly float[] _projected = new float[transform.OutputDimension];

        public override int Capacity => inner.Capacity;

        public override void SetQuery(int index, ReadOnlySpan<float> query)
        {
            transform.ApplyToQuery(query, _projected);
            inner.SetQuery(index, _projected);
        }

        public override void ScanBlocksBelow(ReadOnlySpan<int> members, ReadOnlySpan<byte> packed, int count, ReadOnlySpan<float> thresholds,
            Span<int> positions, Span<float> distances, Span<int> found) =>
            inner.ScanBlocksBelow(members, packed, count, thresholds, positions, distances, found);
    }

    private sealed class Scorer(TransformedCodec codec, CodeScorer inner) : CodeScorer(codec), IBlockScorer
    {
        private readonly VectorTransform _transform = codec.Transform;
        private readonly float[] _projected = new float[codec.Inner.Dimension];

        public override void SetQuery(ReadOnlySpan<float> query)
        {
            _transform.ApplyToQuery(query, _projected);
            inner.SetQuery(_projected);
        }

        /// <summary>
        /// Codes live in the inner codec's space, and so do the distances this scorer gives: the query is the inner
        /// reconstruction, with no round trip through <see cref="VectorTransform.Invert"/> (which may be lossy).
        /// </summary>
        public override void SetQueryFromCode(ReadOnlySpan<byte> code) => inner.SetQueryFromCode(code);

        public override float Distance(ReadOnlySpan<byte> code) => inner.Distance(code);

        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances) =>
            inner.DistanceBatch(codes, codeSize, distances);

        public void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances) =>
            Blocks.ScanBlocks(packed, count, distances);

        public int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances) =>
            Blocks.ScanBlocksBelow(packed, count, threshold, positions, distances);

        private IBlockScorer Blocks =>
            inner as IBlockScorer ?? throw new NotSupportedException($"codec '{_transform.Spec}+…' has no block layout");
    }
}
