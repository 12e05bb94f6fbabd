using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// The fast-scan layout of 1-, 2- and 4-bit <c>rq</c> codes in memory (<see cref="IBlockCodec"/>): a code's grid
/// values regrouped into 4-bit indexes — four dimensions per index at B = 1, two at B = 2, and at B = 4 two planes of
/// two dimensions per index (the low and the high two bits of each value) — packed in blocks of 32 codes as
/// <see cref="PqFastScan"/> lays out 4-bit PQ, so one in-register table lookup adds the query's contribution of
/// several dimensions for 32 codes at once; then the 32 codes' factor bytes. Snapshots still hold one code per vector.
/// Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para>Why: one code at a time, the packed integer kernel (<see cref="PackedCodeDot"/>) is fast, but every code
/// pays a horizontal sum, a call and its checks; a block scan pays them once per 32 codes and keeps the sums in
/// registers. Measured in <c>RqScanBenchmarks</c> (Rq1/Rq2/Rq4FastScan against Rq1/Rq2/Rq4). B = 4 splits each value
/// into two 2-bit planes that share one table: Σu·q̃ = S_low + 4·S_high. Other widths (3, 5–8) are scored one by one.</para>
/// <para>Block: P planes (1, or 2 at B = 4) of <see cref="PqFastScan.BlockBytes"/>(M) bytes of indexes (M = index
/// groups, rounded up to even), then the 32 codes' factors field by field: 32 × f32 per factor (‖r‖, ⟨y, o⟩, ‖y‖ for
/// B &gt; 1, t with centroids), then 32 centroid numbers (u8 or u16) with centroids. Index group g of a
/// plane holds dimensions g·n … (g+1)·n − 1 (n = 4 / the plane's bits), lowest dimension in the lowest bits;
/// dimensions past D are 0.</para>
/// </remarks>
internal sealed class RotationBlockLayout : IBlockCodec
{
    private readonly int _dim;
    private readonly int _bits;         // the code's bits per value
    private readonly int _planeBits;    // bits of a value per plane (1 or 2)
    private readonly int _perIndex;     // dimensions per 4-bit index
    private readonly int _packedBytes;  // the per-vector code's packed grid values
    private readonly int _factorBytes;
    private readonly int _idBytes;      // 0 (one centre), 1 or 2

    private RotationBlockLayout(int dim, int bits, int packedBytes, int codeSize, int idBytes)
    {
        _idBytes = idBytes;
        _dim = dim;
        _bits = bits;
        _planeBits = Math.Min(bits, 2);
        Planes = bits / _planeBits;
        _perIndex = 4 / _planeBits;
        SubQuantizers = IndexGroups(dim, bits);
        _packedBytes = packedBytes;
        _factorBytes = codeSize - packedBytes;
        FloatFields = (_factorBytes - idBytes) / 4;
        PlaneBytes = PqFastScan.BlockBytes(SubQuantizers);
        IndexBytes = Planes * PlaneBytes;
    }

    /// <summary>The layout for a B-bit code of <paramref name="dim"/> dimensions, or null when there is none.</summary>
    /// <param name="dim">D.</param>
    /// <param name="bits">B.</param>
    /// <param name="packedBytes">Bytes of a code's packed grid values.</param>
    /// <param name="codeSize">Bytes of a code: the packed values, f32 factors, then a centroid number of
    /// <paramref name="idBytes"/> bytes (0 for the single centre).</param>
    /// <param name="idBytes">0, 1 or 2.</param>
    public static RotationBlockLayout? For(int dim, int bits, int packedBytes, int codeSize, int idBytes)
    {
        if (bits is not (1 or 2 or 4)) return null;
        // The kernel's 16-bit sums hold at most PqFastScan.MaxSubQuantizers table entries of ≤ 255.
        if (IndexGroups(dim, bits) > PqFastScan.MaxSubQuantizers) return null;
        return new RotationBlockLayout(dim, bits, packedBytes, codeSize, idBytes);
    }

    // 4-bit indexes per plane (4 / the plane's bits dimensions each), rounded up to even as the kernel needs.
    private static int IndexGroups(int dim, int bits)
    {
        int perIndex = 4 / Math.Min(bits, 2), groups = (dim + perIndex - 1) / perIndex;
        return groups + (groups & 1);
    }

    /// <summary>Index groups per plane (the fast-scan kernel's M, even).</summary>
    public int SubQuantizers { get; }

    /// <summary>Planes of indexes: 1, or 2 at B = 4 (low and high two bits of each value).</summary>
    public int Planes { get; }

    /// <summary>Bytes of one plane of a block.</summary>
    public int PlaneBytes { get; }

    /// <summary>Bits of a value held by each plane (plane p is weighted 2^(p·PlaneShift)).</summary>
    public int PlaneShift => _planeBits;

    /// <summary>Bytes of a block's indexes (the part the kernel reads).</summary>
    public int IndexBytes { get; }

    /// <summary>
    /// Largest |q̃_i| of the int8 query for this width: a table entry spans Σ(2^b − 1)·|q̃_i| over the dimensions of
    /// an index (b = a plane's bits), which must fit a byte (4·63 = 252 at B = 1, 2·3·42 = 252 at B = 2 and 4).
    /// </summary>
    public static int QueryLimit(int bits) => bits switch { 1 => 63, 2 or 4 => 42, _ => 127 };

    /// <inheritdoc />
    public int BlockVectors => PqFastScan.BlockVectors;

    /// <inheritdoc />
    public int BlockBytes => IndexBytes + PqFastScan.BlockVectors * _factorBytes;

    /// <summary>The f32 factors of a code (‖r‖, ⟨y, o⟩, then ‖y‖ for B &gt; 1 and t with centroids).</summary>
    public int FloatFields { get; }

    /// <summary>
    /// Factor <paramref name="field"/> of the block's 32 codes, in position order: the factors are stored field by
    /// field (32 floats each, then the 32 centroid numbers), so a scan converts 8 or 16 codes per vector instruction.
    /// </summary>
    public ReadOnlySpan<float> Field(ReadOnlySpan<byte> block, int field) =>
        MemoryMarshal.Cast<byte, float>(block.Slice(IndexBytes + field * 4 * PqFastScan.BlockVectors, 4 * PqFastScan.BlockVectors));

    /// <summary>The centroid number of position <paramref name="position"/> (0 for the single centre).</summary>
    public int CentroidAt(ReadOnlySpan<byte> block, int position)
    {
        int at = IndexBytes + FloatFields * 4 * PqFastScan.BlockVectors + position * _idBytes;
        return _idBytes switch { 0 => 0, 1 => block[at], _ => BinaryPrimitives.ReadUInt16LittleEndian(block[at..]) };
    }

    // A code's factor bytes to / from their field-major places in a block.
    private void MoveFactors(ReadOnlySpan<byte> from, Span<byte> to, int position, bool intoBlock)
    {
        int field0 = IndexBytes;
        for (int f = 0; f < FloatFields; f++)
        {
            int inBlock = field0 + f * 4 * PqFastScan.BlockVectors + position * 4, inCode = _packedBytes + f * 4;
            if (intoBlock) from.Slice(inCode, 4).CopyTo(to.Slice(inBlock, 4));
            else from.Slice(inBlock, 4).CopyTo(to.Slice(inCode, 4));
        }
        if (_idBytes == 0) return;
        int idBlock = field0 + FloatFields * 4 * PqFastScan.BlockVectors + position * _idBytes, idCode = _packedBytes + FloatFields * 4;
        if (intoBlock) from.Slice(idCode, _idBytes).CopyTo(to.Slice(idBlock, _idBytes));
        else from.Slice(idBlock, _idBytes).CopyTo(to.Slice(idCode, _idBytes));
    }

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
        int mask = (1 << _planeBits) - 1;
        for (int p = 0; p < Planes; p++)
        {
            var plane = block.Slice(p * PlaneBytes, PlaneBytes);
            for (int g = 0; g < SubQuantizers; g++)
            {
                int index = 0;
                for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++)
                    index |= ((u[d] >> (p * _planeBits)) & mask) << (s * _planeBits);
                PqFastScan.SetIndex(plane, g, position, index);
            }
        }
        MoveFactors(code, block, position, intoBlock: true);
    }

    /// <inheritdoc />
    public void GetBlockCode(ReadOnlySpan<byte> block, int position, Span<byte> code)
    {
        Span<byte> u = _dim <= 4096 ? stackalloc byte[_dim] : new byte[_dim];
        u.Clear();
        int mask = (1 << _planeBits) - 1;
        for (int p = 0; p < Planes; p++)
        {
            var plane = block.Slice(p * PlaneBytes, PlaneBytes);
            for (int g = 0; g < SubQuantizers; g++)
            {
                int index = PqFastScan.GetIndex(plane, g, position);
                for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++)
                    u[d] |= (byte)(((index >> (s * _planeBits)) & mask) << (p * _planeBits));
            }
        }
        PackedCodeDot.Pack(u, _bits, code[.._packedBytes]);
        MoveFactors(block, code, position, intoBlock: false);
    }

    /// <summary>
    /// The 16-entry table of every index group for the int8 query <paramref name="q"/> (|q̃_i| ≤
    /// <see cref="QueryLimit"/>), shared by the planes: entry v of group g is Σ_s u_s(v)·q̃_{g·n+s} minus the group's
    /// smallest such sum, so a plane's Σ u_i·q̃_i = Σ_g lut[16g + index_g] + the returned sum of the minima, exactly.
    /// </summary>
    public int BuildTable(ReadOnlySpan<sbyte> q, Span<byte> lut)
    {
        int mask = (1 << _planeBits) - 1, offset = 0;
        Span<int> entry = stackalloc int[16];
        for (int g = 0; g < SubQuantizers; g++)
        {
            int min = int.MaxValue;
            for (int v = 0; v < 16; v++)
            {
                int sum = 0;
                for (int s = 0, d = g * _perIndex; s < _perIndex && d < _dim; s++, d++) sum += ((v >> (s * _planeBits)) & mask) * q[d];
                entry[v] = sum;
                min = Math.Min(min, sum);
            }
            for (int v = 0; v < 16; v++) lut[g * 16 + v] = checked((byte)(entry[v] - min));
            offset += min;
        }
        return offset;
    }
}
