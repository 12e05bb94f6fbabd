using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>The uncompressed baseline (<c>none</c>): a code is the vector's float32 bytes. Thread-safe.</summary>
public sealed class Float32Codec(int dimension) : VectorCodec
{
    /// <inheritdoc />
    public override string Spec => "none";

    /// <inheritdoc />
    public override string Kind => "none";

    /// <inheritdoc />
    public override int Dimension { get; } = dimension;

    /// <inheritdoc />
    public override int CodeSize => Dimension * sizeof(float);

    /// <inheritdoc />
    public override long ParameterBytes => 0;

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => MemoryMarshal.AsBytes(vector).CopyTo(code);

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => MemoryMarshal.Cast<byte, float>(code).CopyTo(vector);

    /// <inheritdoc />
    public override float CodeDistance(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, DistanceKind kind) =>
        Distances.Compute(kind, MemoryMarshal.Cast<byte, float>(a), MemoryMarshal.Cast<byte, float>(b));

    /// <inheritdoc />
    public override bool EstimatesAreExact => true;

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new Scorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer) => writer.Write(Dimension);

    private sealed class Scorer(Float32Codec codec, DistanceKind kind) : CodeScorer(codec)
    {
        private readonly float[] _query = new float[codec.Dimension];

        public override void SetQuery(ReadOnlySpan<float> query) => query.CopyTo(_query);

        public override float Distance(ReadOnlySpan<byte> code) => Distances.Compute(kind, _query, MemoryMarshal.Cast<byte, float>(code));

        // A flat or IVF scan spends its time in this loop. Compiled optimized from the first call, like the kernels
        // (ARCHITECTURE.md, "A kernel"); the class is sealed, so Distance is inlined without profile guidance.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
        {
            for (int i = 0; i < distances.Length; i++) distances[i] = Distance(codes.Slice(i * codeSize, codeSize));
        }
    }
}
