using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// The fast-scan layout of 1- and 2-bit <c>rq</c> codes in memory (<see cref="IBlockCodec"/>): a code's grid values
/// regrouped into 4-bit indexes — four dimensions per index at B = 1, two at B = 2 — packed in blocks of 32 codes as
/// <see cref="PqFastScan"/> lays out 4-bit PQ, so one in-register table lookup adds the query's contribution of four
/// (two) dimensions for 32 codes at once; then the 32 codes' factor bytes. Snapshots still hold one code per vector.
/// Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para>Why only B ≤ 2: a 4-bit index covers 4/B dimensions, so the table has one entry per 4/B dimensions and the
/// lookups cost the same per index at every width; at B = 4 an index is one dimension and the packed integer kernel
/// (<see cref="PackedCodeDot"/>, 8 dimensions per byte-multiply) is already faster. Measured in
/// <c>RqScanBenchmarks</c> (Rq1FastScan / Rq2FastScan against Rq1 / Rq2).</para>
/// <para>Block: <see cref="PqFastScan.BlockBytes"/>(M) bytes of indexes (M = index groups, rounded up to even), then
/// 32 × the code's factor bytes (‖r‖, ⟨y, o⟩, …, in code order). Index group g holds dimensions g·4/B … (g+1)·4/B − 1,
/// lowest dimension in the lowest bits; dimensions past D are 0.</para>
/// </remarks>
internal sealed class RotationBlockLayout : IBlockCodec
{
    private readonly int _dim;
    private readonly int _bits;
    private readonly int _perIndex;     // dimensions per 4-bit index
    private readonly int _packedBytes;  // the per-vector code's packed grid values
    private readonly int _factorBytes;

    private RotationBlockLayout(int dim, int bits, int packedBytes, int codeSize)
    {
        _dim = dim;
        _bits = bits;
        _perIndex = 4 / bits;
        int groups = (dim + _perIndex - 1) / _perIndex;
        SubQuantizers = groups + (groups & 1);
        _packedBytes = packedBytes;
        _factorBytes = codeSize - packedBytes;
        IndexBytes = PqFastScan.BlockBytes(SubQuantizers);
    }

    /// <summary>The layout for a B-bit code of <paramref name="dim"/> dimensions, or null when there is none.</summary>
    public static RotationBlockLayout? For(int dim, int bits, int packedBytes, int codeSize)
    {
        if (bits is not (1 or 2)) return null;
        int perIndex = 4 / bits, groups = (dim + perIndex - 1) / perIndex;
        // The kernel's 16-bit sums hold at most PqFastScan.MaxSubQuantizers table entries of ≤ 255.
        if (groups + (groups & 1) > PqFastScan.MaxSubQuantizers) return null;
        return new RotationBlockLayout(dim, bits, packedBytes, codeSize);
    }

    /// <summary>Index groups (the fast-scan kernel's M, even).</summary>
    public int SubQuantizers { get; }

    /// <summary>Bytes of a block's indexes (the part the kernel reads).</summary>
    public int IndexBytes { get; }

    /// <summary>
    /// Largest |q̃_i| of the int8 query for this width: a table entry spans Σ(2^B − 1)·|q̃_i| over the 4/B dimensions of
    /// an index, which must fit a byte (4·63 = 252 at B = 1, 2·3·42 = 252 at B = 2).
    /// </summary>
    public static int QueryLimit(int bits) => bits switch { 1 => 63, 2 => 42, _ => 127 };

    /// <inheritdoc />
    public int BlockVectors => PqFastScan.BlockVectors;

    /// <inheritdoc />
    public int BlockBytes => IndexBytes + PqFastScan.BlockVectors * _factorBytes;

    /// <summary>The factor bytes of position <paramref name="position"/> of a block.</summary>
    public ReadOnlySpan<byte> Factors(ReadOnlySpan<byte> block, int position) =>
        block.Slice(IndexBytes + position * _factorBytes, _factorBytes);

    /// <inheritdoc />
    public void PackBlock(ReadOnlySpan<byte> codes, int count, Span<byte> block)
    {
        if (count is < 0 or > PqFastScan.BlockVectors) throw new ArgumentOutOfRangeException(nameof(count));
        block[..BlockBytes].Clear();
        int size = _packedBytes + _factorBytes;
        for (int v = 0; v < count; v++) SetBlockCode(block, v, codes.Slice(v * size, size));
    }

    /// <inheritdoc />
    public void SetBlockCode(Span<byte> block, int position, ReadOnlySpan<byte> code)
    {
        Span<byte> u = _dim <= 4096 ? stackalloc byte[_dim] : new byte[_dim];
        PackedCodeDot.Unpack(code[.._packedBytes], _bits, u);
        int i = position & 15;
        bool high = position >= 16;
        for (int g = 0; g < SubQuantizers; g++)
        {
            int index = 0;
            for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++) index |= u[d] << (s * _bits);
            ref byte b = ref block[g * 16 + i];
            b = high ? (byte)((b & 0x0F) | (index << 4)) : (byte)((b & 0xF0) | index);
        }
        code.Slice(_packedBytes, _factorBytes).CopyTo(block.Slice(IndexBytes + position * _factorBytes, _factorBytes));
    }

    /// <inheritdoc />
    public void GetBlockCode(ReadOnlySpan<byte> block, int position, Span<byte> code)
    {
        Span<byte> u = _dim <= 4096 ? stackalloc byte[_dim] : new byte[_dim];
        int i = position & 15, mask = (1 << _bits) - 1;
        bool high = position >= 16;
        for (int g = 0; g < SubQuantizers; g++)
        {
            int b = block[g * 16 + i];
            int index = high ? b >> 4 : b & 15;
            for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++) u[d] = (byte)((index >> (s * _bits)) & mask);
        }
        PackedCodeDot.Pack(u, _bits, code[.._packedBytes]);
        Factors(block, position).CopyTo(code.Slice(_packedBytes, _factorBytes));
    }

    /// <summary>
    /// The 16-entry table of every index group for the int8 query <paramref name="q"/> (|q̃_i| ≤
    /// <see cref="QueryLimit"/>): entry v of group g is Σ_s u_s(v)·q̃_{g·4/B+s} minus the group's smallest such sum, so
    /// Σ u_i·q̃_i = Σ_g lut[16g + index_g] + the returned sum of the minima, exactly.
    /// </summary>
    public int BuildTable(ReadOnlySpan<sbyte> q, Span<byte> lut)
    {
        int mask = (1 << _bits) - 1, offset = 0;
        Span<int> entry = stackalloc int[16];
        for (int g = 0; g < SubQuantizers; g++)
        {
            int min = int.MaxValue;
            for (int v = 0; v < 16; v++)
            {
                int sum = 0;
                for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++) sum += ((v >> (s * _bits)) & mask) * q[d];
                entry[v] = sum;
                min = Math.Min(min, sum);
            }
            for (int v = 0; v < 16; v++) lut[g * 16 + v] = checked((byte)(entry[v] - min));
            offset += min;
        }
        return offset;
    }
}
