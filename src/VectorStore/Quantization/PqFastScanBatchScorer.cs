using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// <see cref="BlockBatchScorer"/> of <see cref="PqFastScanCodec"/>: each query's quantized table is made exactly as
/// <see cref="PqFastScanScorer.SetQuery"/> makes it, and a scan runs <see cref="PqFastScan.AccumulateQueries"/> for up
/// to <see cref="GroupSize"/> members per pass over a chunk of blocks, then prunes each member's sums against its own
/// threshold. Not thread-safe.
/// </summary>
public sealed class PqFastScanBatchScorer : BlockBatchScorer
{
    /// <summary>Members summed per pass over a chunk (the AVX-512 kernel's widest group).</summary>
    public const int GroupSize = 4;

    private const int ChunkBlocks = 64;
    private readonly PqFastScanCodec _codec;
    private readonly DistanceKind _kind;
    private readonly int _m;
    private readonly float[] _table;
    private readonly byte[] _luts;
    private readonly float[] _bias, _scale;
    private readonly ushort[] _sums = new ushort[GroupSize * ChunkBlocks * PqFastScan.BlockVectors];
    private readonly int[] _group = new int[GroupSize];
    private readonly int[] _tables = new int[GroupSize];
    private readonly ushort[] _limits = new ushort[GroupSize];

    internal PqFastScanBatchScorer(PqFastScanCodec codec, DistanceKind kind, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a batch scorer holds at least one query");
        _codec = codec;
        _kind = kind;
        _m = codec.Codebook.SubQuantizers;
        _table = new float[_m * 16];
        _luts = new byte[capacity * _m * 16];
        _bias = new float[capacity];
        _scale = new float[capacity];
        Capacity = capacity;
    }

    /// <inheritdoc />
    public override int Capacity { get; }

    /// <inheritdoc />
    public override void SetQuery(int index, ReadOnlySpan<float> query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
        _codec.Codebook.ComputeTable(query, _kind, _table);
        _scale[index] = PqLutQuantizer.Quantize(_table, _m, _luts.AsSpan(index * _m * 16, _m * 16), out _bias[index]);
    }

    /// <inheritdoc />
    public override void ScanBlocksBelow(ReadOnlySpan<int> members, ReadOnlySpan<byte> packed, int count, ReadOnlySpan<float> thresholds,
        Span<int> positions, Span<float> distances, Span<int> found)
    {
        int q = members.Length;
        if (thresholds.Length < q || found.Length < q) throw new ArgumentException("thresholds and found need one entry per member");
        if (positions.Length < (long)q * count || distances.Length < (long)q * count) throw new ArgumentException("output spans are shorter than members × count");
        foreach (int member in members)
            if ((uint)member >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(members), $"member {member} is not a query of this scorer");
        int bb = PqFastScan.BlockBytes(_m);
        int blocks = (count + PqFastScan.BlockVectors - 1) / PqFastScan.BlockVectors;
        if (count < 0 || packed.Length < (long)blocks * bb) throw new ArgumentException("packed holds fewer blocks than count needs");
        found[..q].Clear();
        for (int g0 = 0; g0 < q; g0 += GroupSize)
        {
            // Members whose threshold admits nothing are dropped from the group before any lookup.
            int size = 0;
            for (int g = g0; g < Math.Min(q, g0 + GroupSize); g++)
            {
                if (!PqFastScanScorer.TrySumLimit(thresholds[g], _bias[members[g]], _scale[members[g]], out _limits[size])) continue;
                _group[size++] = g;
            }
            if (size == 0) continue;
            var tables = _tables.AsSpan();
            for (int i = 0; i < size; i++) tables[i] = members[_group[i]];
            for (int b0 = 0; b0 < blocks; b0 += ChunkBlocks)
            {
                int nb = Math.Min(ChunkBlocks, blocks - b0);
                int stride = nb * PqFastScan.BlockVectors;
                PqFastScan.AccumulateQueries(packed.Slice(b0 * bb, nb * bb), nb, _m, _luts, tables[..size], _sums);
                int first = b0 * PqFastScan.BlockVectors;
                int n = Math.Min(stride, count - first);
                for (int i = 0; i < size; i++)
                {
                    int g = _group[i], member = members[g];
                    var sums = _sums.AsSpan(i * stride, n);
                    var pos = positions.Slice(g * count);
                    var dist = distances.Slice(g * count);
                    int at = found[g];
                    int hits = SelectAtMost.Compute(sums, _limits[i], pos[at..], first);
                    float bias = _bias[member], inv = 1f / _scale[member];
                    for (int h = at; h < at + hits; h++) dist[h] = bias + sums[pos[h] - first] * inv;
                    found[g] = at + hits;
                }
            }
        }
    }
}
