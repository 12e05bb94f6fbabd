using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// Per-query state of <see cref="PqFastScanCodec"/>: the float distance table quantized to one byte per entry,
/// q = round((t − min_j)·scale) with one scale for all sub-quantizers (255 / largest per-sub-quantizer range), so a
/// code's estimate is <see cref="Bias"/> + sum / <see cref="Scale"/>. Per-vector <see cref="Distance"/> and
/// <see cref="ScanBlocks"/> use the same integer sums, so they return identical values. Not thread-safe.
/// </summary>
public sealed class PqFastScanScorer : CodeScorer, IBlockScorer
{
    private const int ChunkBlocks = 64;
    private readonly PqFastScanCodec _codec;
    private readonly DistanceKind _kind;
    private readonly float[] _table;
    private readonly byte[] _lut;
    private readonly ushort[] _sums = new ushort[ChunkBlocks * PqFastScan.BlockVectors];
    private readonly int _m;
    private float _invScale = 1f;

    internal PqFastScanScorer(PqFastScanCodec codec, DistanceKind kind) : base(codec)
    {
        _codec = codec;
        _kind = kind;
        _m = codec.Codebook.SubQuantizers;
        _table = new float[_m * 16];
        _lut = new byte[_m * 16];
    }

    /// <summary>The quantized table of the current query: 16 bytes per sub-quantizer.</summary>
    public ReadOnlySpan<byte> LookupTable => _lut;

    /// <summary>Sum of the per-sub-quantizer minima: the estimate of a code whose quantized sum is 0.</summary>
    public float Bias { get; private set; }

    /// <summary>Quantization scale: an estimate is <see cref="Bias"/> + sum / Scale.</summary>
    public float Scale { get; private set; } = 1f;

    /// <inheritdoc />
    public override void SetQuery(ReadOnlySpan<float> query)
    {
        _codec.Codebook.ComputeTable(query, _kind, _table);
        float scale = PqLutQuantizer.Quantize(_table, _m, _lut, out float bias);
        Bias = bias;
        Scale = scale;
        _invScale = 1f / scale;
    }

    /// <inheritdoc />
    public override float Distance(ReadOnlySpan<byte> code)
    {
        int s = 0;
        for (int i = 0; i < _m / 2; i++)
        {
            int b = code[i];
            s += _lut[(2 * i) * 16 + (b & 15)] + _lut[(2 * i + 1) * 16 + (b >> 4)];
        }
        return Bias + s * _invScale;
    }

    /// <inheritdoc />
    public void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances)
    {
        int bb = PqFastScan.BlockBytes(_m);
        int blocks = (count + PqFastScan.BlockVectors - 1) / PqFastScan.BlockVectors;
        for (int b0 = 0; b0 < blocks; b0 += ChunkBlocks)
        {
            int nb = Math.Min(ChunkBlocks, blocks - b0);
            PqFastScan.Accumulate(packed.Slice(b0 * bb, nb * bb), nb, _m, _lut, _sums);
            int first = b0 * PqFastScan.BlockVectors;
            int n = Math.Min(nb * PqFastScan.BlockVectors, count - first);
            var d = distances.Slice(first, n);
            for (int i = 0; i < n; i++) d[i] = Bias + _sums[i] * _invScale;
        }
    }

    /// <summary>
    /// The largest integer sum that can still beat <paramref name="threshold"/> (false: none can). distance = bias +
    /// sum / scale, so distance &lt; threshold ⇔ sum &lt; (threshold − bias)·scale; one step of slack keeps every true
    /// candidate despite float rounding, and the heap decides the borderline ones exactly.
    /// </summary>
    internal static bool TrySumLimit(float threshold, float bias, float scale, out ushort limit)
    {
        double l = Math.Floor(((double)threshold - bias) * scale) + 1;
        limit = l >= ushort.MaxValue ? ushort.MaxValue : l >= 0 ? (ushort)l : (ushort)0;
        return l >= 0; // also false for −∞ and NaN
    }

    /// <inheritdoc />
    public int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances)
    {
        if (positions.Length < count || distances.Length < count) throw new ArgumentException("output spans are shorter than count");
        int bb = PqFastScan.BlockBytes(_m);
        int blocks = (count + PqFastScan.BlockVectors - 1) / PqFastScan.BlockVectors;
        if (!TrySumLimit(threshold, Bias, Scale, out ushort ulimit)) return 0;
        int found = 0;
        for (int b0 = 0; b0 < blocks; b0 += ChunkBlocks)
        {
            int nb = Math.Min(ChunkBlocks, blocks - b0);
            PqFastScan.Accumulate(packed.Slice(b0 * bb, nb * bb), nb, _m, _lut, _sums);
            int first = b0 * PqFastScan.BlockVectors;
            int n = Math.Min(nb * PqFastScan.BlockVectors, count - first);
            int hits = SelectAtMost.Compute(_sums.AsSpan(0, n), ulimit, positions[found..], first);
            for (int h = found; h < found + hits; h++) distances[h] = Bias + _sums[positions[h] - first] * _invScale;
            found += hits;
        }
        return found;
    }
}
