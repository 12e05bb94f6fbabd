using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// 4-bit product quantization for fast-scan (<c>pq:Mx4</c>): M sub-quantizers of 16 centroids. A per-vector code is
/// M/2 bytes (byte i = index 2i in the low nibble, index 2i+1 in the high nibble); indexes that scan many codes keep
/// them packed in blocks of 32 (<see cref="IBlockCodec"/>, layout in <see cref="PqFastScan"/>) and score them with
/// <see cref="PqFastScanScorer.ScanBlocks"/>. Immutable and thread-safe; scorers are per thread.
/// </summary>
public sealed class PqFastScanCodec : VectorCodec, IBlockCodec, ISubCodebookCodec
{
    /// <summary>Wraps a trained 4-bit codebook.</summary>
    public PqFastScanCodec(PqCodebook codebook)
    {
        if (codebook.Bits != 4) throw new InvalidArgumentException($"pq:Mx4 needs a 4-bit codebook, got {codebook.Bits} bits");
        Codebook = codebook;
    }

    /// <summary>The trained centroids.</summary>
    public PqCodebook Codebook { get; }

    /// <inheritdoc />
    public override string Spec => $"pq:{Codebook.SubQuantizers}x4";

    /// <inheritdoc />
    public override string Kind => "pq";

    /// <inheritdoc />
    public override int Dimension => Codebook.Dimension;

    /// <inheritdoc />
    public override int CodeSize => Codebook.SubQuantizers / 2;

    /// <inheritdoc />
    public override long ParameterBytes => Codebook.ParameterBytes;

    /// <inheritdoc />
    public override IBlockCodec BlockLayout => this;

    /// <inheritdoc />
    public override BlockBatchScorer CreateBatchScorer(DistanceKind kind, int capacity) => new PqFastScanBatchScorer(this, kind, capacity);

    /// <inheritdoc />
    public int BlockVectors => PqFastScan.BlockVectors;

    /// <inheritdoc />
    public int BlockBytes => PqFastScan.BlockBytes(Codebook.SubQuantizers);

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int m = Codebook.SubQuantizers;
        Span<byte> idx = m <= 1024 ? stackalloc byte[m] : new byte[m];
        Codebook.Assign(vector, idx);
        for (int i = 0; i < m / 2; i++) code[i] = (byte)(idx[2 * i] | (idx[2 * i + 1] << 4));
    }

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        int m = Codebook.SubQuantizers;
        Span<byte> idx = m <= 1024 ? stackalloc byte[m] : new byte[m];
        GetEntries(code, idx);
        Codebook.Reconstruct(idx, vector);
    }

    /// <inheritdoc />
    public int SubQuantizers => Codebook.SubQuantizers;

    /// <inheritdoc />
    public int EntriesPerSubQuantizer => Codebook.CentroidsPerSubspace;

    /// <inheritdoc />
    public void GetEntries(ReadOnlySpan<byte> code, Span<byte> entries)
    {
        for (int i = 0; i < SubQuantizers / 2; i++)
        {
            entries[2 * i] = (byte)(code[i] & 15);
            entries[2 * i + 1] = (byte)(code[i] >> 4);
        }
    }

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new PqFastScanScorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer) => Codebook.Write(writer);

    /// <inheritdoc />
    public void PackBlock(ReadOnlySpan<byte> codes, int count, Span<byte> block)
    {
        if (count is < 0 or > PqFastScan.BlockVectors) throw new ArgumentOutOfRangeException(nameof(count));
        block[..BlockBytes].Clear();
        int size = CodeSize;
        for (int v = 0; v < count; v++) SetBlockCode(block, v, codes.Slice(v * size, size));
    }

    /// <inheritdoc />
    public void SetBlockCode(Span<byte> block, int position, ReadOnlySpan<byte> code)
    {
        int m = Codebook.SubQuantizers;
        for (int j = 0; j < m; j++) PqFastScan.SetIndex(block, j, position, (j & 1) == 0 ? code[j >> 1] & 15 : code[j >> 1] >> 4);
    }

    /// <inheritdoc />
    public void GetBlockCode(ReadOnlySpan<byte> block, int position, Span<byte> code)
    {
        int m = Codebook.SubQuantizers;
        code[..(m / 2)].Clear();
        for (int j = 0; j < m; j++)
        {
            int idx = PqFastScan.GetIndex(block, j, position);
            code[j >> 1] |= (byte)((j & 1) == 0 ? idx : idx << 4);
        }
    }
}
