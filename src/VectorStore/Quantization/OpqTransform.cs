using System.Numerics;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// The learned rotation of optimized product quantization (<c>opq+pq:M</c>, <c>opq+pq:Mx4</c>): y = R·x with R
/// orthogonal (d × d), chosen so that the product quantizer that follows loses less. Rotations preserve L2 distances
/// and inner products, so scoring in the rotated space is exact up to quantization. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// Vectors are encoded with the float32 matrix; queries are rotated with a bfloat16 copy of it (<see cref="ApplyToQuery"/>,
/// <see cref="Bf16MatrixProduct"/>), which a query's rotation reads in about a third of the time. A query's rotation
/// only feeds the approximate code scores (re-ranking uses the original vectors), and its error is far below what the
/// codes resolve. The copy (d² × 2 bytes) is built at the first query.
/// </remarks>
public sealed class OpqTransform : VectorTransform
{
    private readonly float[] _rotation; // row-major d × d
    private ushort[]? _queryRotation; // the same in bfloat16, input-major (Bf16MatrixProduct.Pack); built at the first query

    /// <summary>Wraps a row-major d × d orthogonal matrix (not copied: it must not change afterwards).</summary>
    public OpqTransform(int dimension, float[] rotation)
    {
        if (dimension <= 0 || rotation.Length != (long)dimension * dimension)
            throw new InvalidArgumentException($"opq: rotation has {rotation.Length} values, expected {dimension}²");
        InputDimension = dimension;
        _rotation = rotation;
    }

    /// <summary>The identity rotation.</summary>
    public static OpqTransform Identity(int dimension)
    {
        var r = new float[dimension * dimension];
        for (int i = 0; i < dimension; i++) r[i * dimension + i] = 1f;
        return new OpqTransform(dimension, r);
    }

    /// <summary>The rotation, row-major.</summary>
    public ReadOnlySpan<float> Rotation => _rotation;

    /// <inheritdoc />
    public override string Kind => "opq";

    /// <inheritdoc />
    public override string Spec => "opq";

    /// <inheritdoc />
    public override int InputDimension { get; }

    /// <inheritdoc />
    public override int OutputDimension => InputDimension;

    /// <inheritdoc />
    /// <remarks>The float32 matrix, and its bfloat16 copy once a query has built it.</remarks>
    public override long ParameterBytes =>
        (long)_rotation.Length * sizeof(float) + (long)(Volatile.Read(ref _queryRotation)?.Length ?? 0) * sizeof(ushort);

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = InputDimension;
        if (input.Length != d) throw new InvalidVectorException($"expected dimension {d}, got {input.Length}");
        // Four rows per load of the input, each bit-identical to DotProduct.Compute of its row: codes do not change.
        DotProductBatch.Compute(input, _rotation, d, output);
    }

    /// <inheritdoc />
    internal override void ApplyToQuery(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = InputDimension;
        if (input.Length != d) throw new InvalidVectorException($"expected dimension {d}, got {input.Length}");
        // Built on first use: training draws several rotations (one per Procrustes round) that never see a query.
        // Two threads racing here build identical copies and one is kept.
        var packed = Volatile.Read(ref _queryRotation)
            ?? Interlocked.CompareExchange(ref _queryRotation, Bf16MatrixProduct.Pack(_rotation, d, d), null)
            ?? _queryRotation!;
        Bf16MatrixProduct.Compute(input, packed, d, output);
    }

    /// <inheritdoc />
    public override void Invert(ReadOnlySpan<float> output, Span<float> input)
    {
        // R is orthogonal, so the inverse is the transpose: x = Σ_i y_i · R[i, :].
        int d = InputDimension;
        input[..d].Clear();
        for (int i = 0; i < d; i++) Axpy(output[i], _rotation.AsSpan(i * d, d), input);
    }

    internal static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int w = Vector<float>.Count, j = 0;
        var va = new Vector<float>(a);
        for (; j <= x.Length - w; j += w) (new Vector<float>(y[j..]) + va * new Vector<float>(x[j..])).CopyTo(y[j..]);
        for (; j < x.Length; j++) y[j] += a * x[j];
    }

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(InputDimension);
        foreach (var v in _rotation) writer.Write(v);
    }

    internal static OpqTransform ReadParameters(BinaryReader reader)
    {
        int d = reader.ReadInt32();
        if (d is <= 0 or > 1 << 14) throw new InvalidDataException($"opq: bad dimension {d}");
        var r = new float[d * d];
        for (int i = 0; i < r.Length; i++) r[i] = reader.ReadSingle();
        return new OpqTransform(d, r);
    }
}
