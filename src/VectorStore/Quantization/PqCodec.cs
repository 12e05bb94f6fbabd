using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// 8-bit product quantization (<c>pq:M</c>): a code is M bytes, byte m the index of the nearest of 256 centroids in
/// sub-space m. Scoring builds an M × 256 distance table per query and sums M entries per code
/// (<see cref="PqScan"/>). Immutable and thread-safe; scorers are per thread.
/// </summary>
public sealed class PqCodec : VectorCodec, ISubCodebookCodec
{
    /// <summary>Wraps a trained 8-bit codebook.</summary>
    public PqCodec(PqCodebook codebook)
    {
        if (codebook.Bits != 8) throw new InvalidArgumentException($"pq:M needs an 8-bit codebook, got {codebook.Bits} bits");
        Codebook = codebook;
    }

    /// <summary>The trained centroids.</summary>
    public PqCodebook Codebook { get; }

    /// <inheritdoc />
    public override string Spec => $"pq:{Codebook.SubQuantizers}";

    /// <inheritdoc />
    public override string Kind => "pq";

    /// <inheritdoc />
    public override int Dimension => Codebook.Dimension;

    /// <inheritdoc />
    public override int CodeSize => Codebook.SubQuantizers;

    /// <inheritdoc />
    public override long ParameterBytes => Codebook.ParameterBytes;

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => Codebook.Assign(vector, code[..CodeSize]);

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => Codebook.Reconstruct(code, vector);

    /// <inheritdoc />
    public int SubQuantizers => Codebook.SubQuantizers;

    /// <inheritdoc />
    public int EntriesPerSubQuantizer => Codebook.CentroidsPerSubspace;

    /// <inheritdoc />
    public void GetEntries(ReadOnlySpan<byte> code, Span<byte> entries) => code[..CodeSize].CopyTo(entries);

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new Scorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer) => Codebook.Write(writer);

    private sealed class Scorer(PqCodec codec, DistanceKind kind) : CodeScorer(codec)
    {
        private readonly PqCodebook _codebook = codec.Codebook;
        private readonly float[] _table = new float[codec.Codebook.SubQuantizers * PqScan.TableWidth];
        private readonly int _m = codec.Codebook.SubQuantizers;

        public override void SetQuery(ReadOnlySpan<float> query) => _codebook.ComputeTable(query, kind, _table);

        public override float Distance(ReadOnlySpan<byte> code)
        {
            float s = 0;
            for (int j = 0; j < _m; j++) s += _table[j * PqScan.TableWidth + code[j]];
            return s;
        }

        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
        {
            if (codeSize != _m) throw new ArgumentException($"pq:{_m} codes are {_m} bytes, got code size {codeSize}");
            PqScan.Compute(codes, _m, _table, distances);
        }
    }
}
