namespace VectorStore.Quantization;

/// <summary>
/// A fitted linear or hashing map applied before quantization (PCA, pruning, OPQ rotation, distillation).
/// Immutable after fitting, so thread-safe.
/// </summary>
public abstract class VectorTransform
{
    /// <summary>
    /// Reads the <c>i32 input, i32 output</c> dimensions that open a projecting transform's parameters, refusing
    /// sizes no build writes (input 1..65536, output 1..input) as <see cref="InvalidDataException"/>.
    /// </summary>
    private protected static (int Input, int Output) ReadDimensions(BinaryReader reader, string kind)
    {
        int n = reader.ReadInt32();
        int d = reader.ReadInt32();
        if (n is <= 0 or > 1 << 16 || d <= 0 || d > n) throw new InvalidDataException($"{kind}: bad dimensions {n} -> {d}");
        return (n, d);
    }

    /// <summary>Registry name (<c>pca</c>, <c>prune</c>, <c>opq</c>, …).</summary>
    public abstract string Kind { get; }

    /// <summary>The stage as it appears in a spec, e.g. <c>pca:128</c>.</summary>
    public abstract string Spec { get; }

    /// <summary>Input dimension.</summary>
    public abstract int InputDimension { get; }

    /// <summary>Output dimension.</summary>
    public abstract int OutputDimension { get; }

    /// <summary>Bytes the fitted parameters occupy in memory.</summary>
    public abstract long ParameterBytes { get; }

    /// <summary>Maps one vector.</summary>
    public abstract void Apply(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Best-effort inverse (e.g. the transpose for PCA); used by Decode.</summary>
    public abstract void Invert(ReadOnlySpan<float> output, Span<float> input);

    /// <summary>Writes the fitted parameters.</summary>
    public abstract void WriteParameters(BinaryWriter writer);

    /// <summary>Maps every row, in parallel.</summary>
    public VectorMatrix ApplyBatch(VectorMatrix input)
    {
        var output = new VectorMatrix(input.Count, OutputDimension);
        Parallel.For(0, input.Count, i => Apply(input.Row(i), output[i]));
        return output;
    }
}

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
    public override CodeScorer CreateScorer(DistanceKind kind) => new Scorer(Transform, Inner.CreateScorer(kind));

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer) => throw new NotSupportedException("use CodecRegistry.Write");

    private sealed class Scorer(VectorTransform transform, CodeScorer inner) : CodeScorer, IBlockScorer
    {
        private readonly float[] _projected = new float[transform.OutputDimension];

        public override void SetQuery(ReadOnlySpan<float> query)
        {
            transform.Apply(query, _projected);
            inner.SetQuery(_projected);
        }

        public override float Distance(ReadOnlySpan<byte> code) => inner.Distance(code);

        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances) =>
            inner.DistanceBatch(codes, codeSize, distances);

        public void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances) =>
            Blocks.ScanBlocks(packed, count, distances);

        public int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances) =>
            Blocks.ScanBlocksBelow(packed, count, threshold, positions, distances);

        private IBlockScorer Blocks =>
            inner as IBlockScorer ?? throw new NotSupportedException($"codec '{transform.Spec}+…' has no block layout");
    }
}
