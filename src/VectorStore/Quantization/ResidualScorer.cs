namespace VectorStore.Quantization;

/// <summary>
/// Scores codes that encode the residual r = x − c to a list centroid c (the IVFADC scheme), for one query and one
/// list at a time: <see cref="CodeScorer.SetQuery"/> once per query, then <see cref="SetList"/> per list. For negative
/// dot, −q·x̂ = −q·c − q·r̂, so the codec's scorer is set up once per query and each list adds its constant −q·c. For
/// L2, ‖q − c − r̂‖² needs the codec's scorer set up on q − c once per list. Block scans pass through when the codec
/// has a block layout. Not thread-safe: one per search thread.
/// </summary>
public sealed class ResidualScorer : CodeScorer, IBlockScorer
{
    private readonly CodeScorer _inner;
    private readonly IBlockScorer? _blocks;
    private readonly bool _perListQuery;
    private readonly float[] _query;
    private readonly float[] _residual;
    private float _bias;

    internal ResidualScorer(VectorCodec codec, CodeScorer inner, DistanceKind kind) : base(codec)
    {
        _inner = inner;
        _blocks = inner as IBlockScorer;
        _perListQuery = kind == DistanceKind.L2;
        _query = new float[codec.Dimension];
        _residual = new float[codec.Dimension];
    }

    /// <inheritdoc />
    public override void SetQuery(ReadOnlySpan<float> query)
    {
        if (query.Length != _query.Length) throw new InvalidVectorException($"expected dimension {_query.Length}, got {query.Length}");
        _bias = 0;
        if (_perListQuery) query.CopyTo(_query);
        else _inner.SetQuery(query);
    }

    /// <summary>
    /// Switches to the list whose centroid is <paramref name="centroid"/>. <paramref name="queryDotCentroid"/> is q·c as
    /// the caller already computed it to rank the lists (only negative dot uses it), so no list costs a second dot
    /// product.
    /// </summary>
    public void SetList(ReadOnlySpan<float> centroid, float queryDotCentroid)
    {
        if (!_perListQuery)
        {
            _bias = -queryDotCentroid;
            return;
        }
        if (centroid.Length != _query.Length) throw new InvalidVectorException($"expected dimension {_query.Length}, got {centroid.Length}");
        var r = _residual;
        for (int d = 0; d < r.Length; d++) r[d] = _query[d] - centroid[d];
        _inner.SetQuery(r);
    }

    /// <summary>Not supported: a residual code stands for a vector only together with its list's centroid.</summary>
    public override void SetQueryFromCode(ReadOnlySpan<byte> code) =>
        throw new NotSupportedException("a residual code needs its list centroid to stand for a vector");

    /// <inheritdoc />
    public override float Distance(ReadOnlySpan<byte> code) => _inner.Distance(code) + _bias;

    /// <inheritdoc />
    public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
    {
        _inner.DistanceBatch(codes, codeSize, distances);
        AddBias(distances);
    }

    /// <inheritdoc />
    public void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances)
    {
        Blocks.ScanBlocks(packed, count, distances);
        AddBias(distances[..count]);
    }

    /// <inheritdoc />
    public int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances)
    {
        int found = Blocks.ScanBlocksBelow(packed, count, threshold - _bias, positions, distances);
        AddBias(distances[..found]);
        return found;
    }

    private void AddBias(Span<float> distances)
    {
        float bias = _bias;
        for (int i = 0; i < distances.Length; i++) distances[i] += bias;
    }

    private IBlockScorer Blocks => _blocks ?? throw new NotSupportedException("this codec has no block layout");
}
