using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// Scores <c>rq:B</c> codes (<see cref="RotationQuantizer"/>) against one query, with a per-candidate error bound
/// (<see cref="DistanceWithBound"/>). Not thread-safe: one per search thread; scoring allocates nothing.
/// </summary>
/// <remarks>
/// <para>The rotated query q' (P·(q − c) for L2, P·q for inner products) is quantized once per query to int8 with one
/// scale Δ = max|q'_i|/L (L = 127, or 63 at B = 1 and 42 at B = 2 and 4 so that the fast-scan table entries fit a
/// byte: <see cref="RotationBlockLayout.QueryLimit"/>), so ⟨y, q'⟩ ≈ Δ·(Σ u_i·q̃_i − (2^B − 1)/2·Σ q̃_i) where the sum over the packed codes is an
/// exact integer kernel (<see cref="PackedCodeDot"/>), one call per packed part of the code.</para>
/// <para>Centroids (<see cref="RotationQuantizer.CentroidCount"/> &gt; 1): a code names its centroid j; the query's
/// terms for j (‖q − c_j‖² for L2, ⟨c_j, q⟩ otherwise, one D-long dot product in the rotated space) are computed the
/// first time a code of that centroid is scored after <see cref="SetQuery"/>, so an HNSW or refine search that meets
/// a few centroids pays for those only.</para>
/// <para>Error bound: the estimate of ⟨o, q'⟩ has two independent errors, the code's (standard deviation at most
/// ‖q'‖·√(1 − cos²)/(cos·√(D − 1)), cos = ⟨y, o⟩/‖y‖, RaBitQ) and the query rounding's (each q̃ error uniform in
/// ±Δ/2, so Δ/(√12·cos)). The bound is <see cref="BoundSigmas"/> standard deviations of their sum, scaled to the
/// distance (2‖r‖ for L2, ‖r‖ for inner products), with ‖q − c_j‖ in the code's term for L2; with the default 3,
/// about 0.3 % of estimates fall outside it. A float32 rounding term is added, which is all that is left for a vector
/// on its centroid.</para>
/// </remarks>
public sealed class RotationScorer : CodeScorer, IBoundedScorer, IBlockScorer
{
    private readonly RotationQuantizer _rq;
    private readonly bool _l2;
    private readonly int _dim;
    private readonly int _packedBytes;
    private readonly (int Bits, int Shift, int Offset, int Bytes)[] _parts;
    private readonly sbyte[][] _split;   // the int8 query laid out for each part's width
    private readonly float[] _shifted;
    private readonly float[] _rotated;
    private readonly sbyte[] _q;
    private readonly float _centerNormSq;
    private readonly float _invSqrtDm1;
    private readonly float _defaultNormY;
    private readonly int _levels;        // 2^B − 1
    private readonly float[] _table;     // per centroid j: ‖q − c_j‖² (L2) or ⟨c_j, q⟩ (inner products)
    private readonly float[] _tableNorm; // per centroid j: ‖P(q − c_j)‖ (L2) or ‖P·q‖ (the error bound's query norm)
    private readonly float[] _offsetNorms; // ‖c_j − center‖
    private readonly float _roundingScale;  // 4·√D float32 rounding steps
    private readonly int[] _stamp;       // _query when _table[j] was filled for this query
    private int _query;
    private readonly int _qLimit;         // largest |q̃_i|
    private readonly RotationBlockLayout? _blocks;
    private readonly byte[] _lut;
    private readonly ushort[] _sums = new ushort[PqFastScan.BlockVectors];
    private readonly ushort[] _sumsHigh = new ushort[PqFastScan.BlockVectors];
    private readonly float[] _blockDistances = new float[PqFastScan.BlockVectors];
    private int _lutOffset;
    private bool _lutReady;
    private float _delta, _qNorm, _qNormSq, _qDotCenter;
    private int _sumQ;

    internal RotationScorer(RotationQuantizer rq, DistanceKind kind) : base(rq)
    {
        _rq = rq;
        _l2 = kind == DistanceKind.L2;
        _dim = rq.Dimension;
        _packedBytes = rq.PackedBytes;
        _parts = rq.PartLayout.ToArray();
        _split = _parts.Select(p => new sbyte[PackedCodeDot.SplitLength(_dim, p.Bits)]).ToArray();
        _shifted = new float[_dim];
        _rotated = new float[_dim];
        _q = new sbyte[_dim];
        _centerNormSq = DotProduct.Compute(rq.Center, rq.Center);
        _invSqrtDm1 = 1f / MathF.Sqrt(Math.Max(1, _dim - 1));
        _defaultNormY = MathF.Sqrt(_dim) * 0.5f;
        _levels = (1 << rq.Bits) - 1;
        _table = new float[rq.CentroidCount];
        _tableNorm = new float[rq.CentroidCount];
        _stamp = new int[rq.CentroidCount];
        _stamp[0] = -1;
        _offsetNorms = new float[rq.CentroidCount];
        for (int j = 0; j < _offsetNorms.Length; j++) _offsetNorms[j] = MathF.Sqrt(rq.OffsetNormSquared(j));
        _roundingScale = 4f * MathF.Sqrt(_dim) * MathF.Pow(2f, -24);
        _blocks = rq.Blocks;
        _qLimit = RotationBlockLayout.QueryLimit(rq.Bits);
        _lut = new byte[(_blocks?.SubQuantizers ?? 0) * 16];
    }

    /// <summary>
    /// Fills the terms of centroid j for the current query. q' is P(q − center) for L2, P·q otherwise; with
    /// o_j = P(c_j − center): ‖q − c_j‖² = ‖q' − o_j‖² = ‖q'‖² − 2⟨q', o_j⟩ + ‖o_j‖², and ⟨c_j, q⟩ = ⟨center, q⟩ + ⟨o_j, q'⟩.
    /// </summary>
    private void FillCentroid(int j)
    {
        float dot = DotProduct.Compute(_rotated, _rq.RotatedOffsets.Slice(j * _dim, _dim));
        if (_l2)
        {
            float dsq = MathF.Max(0f, _qNormSq - 2f * dot + _rq.OffsetNormSquared(j));
            _table[j] = dsq;
            _tableNorm[j] = MathF.Sqrt(dsq);
        }
        else
        {
            _table[j] = _qDotCenter + dot;
            _tableNorm[j] = _qNorm;
        }
        _stamp[j] = _query;
    }

    /// <summary>
    /// Standard deviations of the estimate that <see cref="DistanceWithBound"/>'s bound spans (default 3: the exact
    /// distance lies outside it for about 0.3 % of candidates). Must be positive.
    /// </summary>
    public float BoundSigmas
    {
        get;
        set => field = value > 0 && float.IsFinite(value) ? value : throw new InvalidArgumentException($"BoundSigmas must be positive and finite, got {value}");
    } = 3f;

    /// <inheritdoc />
    public override void SetQuery(ReadOnlySpan<float> query)
    {
        if (query.Length != _dim) throw new InvalidVectorException($"expected dimension {_dim}, got {query.Length}");
        var center = _rq.Center;
        _qDotCenter = DotProduct.Compute(query, center);
        if (_l2)
            for (int i = 0; i < _dim; i++) _shifted[i] = query[i] - center[i];
        else
            query.CopyTo(_shifted);
        _rq.Rotate(_shifted, _rotated);
        PrepareRotated();
    }

    /// <summary>
    /// The query is the vector the code stands for, built in the rotated space directly: P(x̂ − c) is the code's
    /// rotated residual, and P·x̂ adds the rotated centre. Same result as decoding then <see cref="SetQuery"/>, without
    /// the two D×D rotations.
    /// </summary>
    public override void SetQueryFromCode(ReadOnlySpan<byte> code)
    {
        _rq.RotatedResidual(code, _rotated);
        // P(x̂ − center) = P(x̂ − c_j) + P(c_j − center).
        int j = _rq.CentroidOf(code).Centroid;
        if (j >= _table.Length) throw new InvalidDataException($"rq: code refers to centroid {j} of {_table.Length}");
        if (_table.Length > 1)
        {
            var offset = _rq.RotatedOffsets.Slice(j * _dim, _dim);
            for (int i = 0; i < _dim; i++) _rotated[i] += offset[i];
        }
        if (!_l2)
        {
            var pc = _rq.RotatedCenter;
            // ⟨c, x̂⟩ = ‖c‖² + ⟨c, Pᵀ r̂⟩ = ‖c‖² + ⟨Pc, r̂⟩.
            _qDotCenter = _centerNormSq + DotProduct.Compute(pc, _rotated);
            for (int i = 0; i < _dim; i++) _rotated[i] += pc[i];
        }
        PrepareRotated();
    }

    private void PrepareRotated()
    {
        _qNormSq = DotProduct.Compute(_rotated, _rotated);
        _qNorm = MathF.Sqrt(_qNormSq);
        float max = 0;
        for (int i = 0; i < _dim; i++) max = MathF.Max(max, MathF.Abs(_rotated[i]));
        _delta = max > 0 ? max / _qLimit : 1f;
        float inv = 1f / _delta;
        int sum = 0;
        _lutReady = false;
        for (int i = 0; i < _dim; i++)
        {
            int v = Math.Clamp((int)MathF.Round(_rotated[i] * inv), -_qLimit, _qLimit);
            _q[i] = (sbyte)v;
            sum += v;
        }
        _sumQ = sum;
        for (int p = 0; p < _parts.Length; p++) PackedCodeDot.SplitQuery(_q, _parts[p].Bits, _split[p]);
        // Per-centroid terms are filled on first use (a query of an HNSW or refine search meets a fraction of them).
        if (_table.Length == 1)
        {
            _table[0] = _l2 ? _qNormSq : _qDotCenter;
            _tableNorm[0] = _qNorm;
            _stamp[0] = _query;
        }
        else if (++_query == 0)
        {
            Array.Clear(_stamp);
            _query = 1;
        }
    }

    /// <summary>The int8 query q̃ in natural dimension order (for tests).</summary>
    internal ReadOnlySpan<sbyte> QuantizedQuery => _q;

    /// <summary>Σ u_i·q̃_i over every part of the code (exact), through the SIMD kernel or its scalar reference.</summary>
    internal int CodeDot(ReadOnlySpan<byte> code, bool reference = false)
    {
        int dot = 0;
        for (int p = 0; p < _parts.Length; p++)
        {
            var (bits, shift, offset, bytes) = _parts[p];
            var part = code.Slice(offset, bytes);
            dot += (reference ? PackedCodeDot.ComputeScalar(part, _split[p], bits) : PackedCodeDot.Compute(part, _split[p], bits)) << shift;
        }
        return dot;
    }

    /// <inheritdoc />
    public override float Distance(ReadOnlySpan<byte> code) => Estimate(code, out _, out _, out _);

    /// <inheritdoc />
    public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
    {
        for (int i = 0; i < distances.Length; i++)
            distances[i] = FromDot(CodeDot(codes.Slice(i * codeSize, codeSize)), codes.Slice(i * codeSize, codeSize), out _, out _, out _);
    }

    /// <inheritdoc />
    /// <remarks>See the type's remarks for the bound: <see cref="BoundSigmas"/> standard deviations of the estimate.</remarks>
    public float DistanceWithBound(ReadOnlySpan<byte> code, out float bound)
    {
        float d = Estimate(code, out float normR, out float ipYO, out int centroid);
        float normY = _rq.Bits > 1 ? BinaryPrimitives.ReadSingleLittleEndian(code[(_packedBytes + 8)..]) : _defaultNormY;
        float cos = ipYO / normY;
        float codeSigma = _tableNorm[centroid] * MathF.Sqrt(MathF.Max(0, 1 - cos * cos)) / cos * _invSqrtDm1;
        float query = _delta / (MathF.Sqrt(12f) * cos);
        float sigma = MathF.Sqrt(codeSigma * codeSigma + query * query);
        // Plus float rounding of the exact terms (the centroid's table entry, rotated in float32), which is all that is
        // left when a vector sits on its centroid (‖r‖ = 0): about √D rounding steps of the magnitudes summed.
        float magnitude = MathF.Abs(d) + normR * _tableNorm[centroid] + _offsetNorms[centroid] * _qNorm;
        bound = BoundSigmas * sigma * (_l2 ? 2 * normR : normR) + _roundingScale * magnitude;
        return d;
    }

    /// <summary><see cref="Distance"/> through the scalar reference kernel: the same value, bit for bit.</summary>
    internal float DistanceScalar(ReadOnlySpan<byte> code) => FromDot(CodeDot(code, reference: true), code, out _, out _, out _);

    private float Estimate(ReadOnlySpan<byte> code, out float normR, out float ipYO, out int centroid) =>
        FromDot(CodeDot(code), code, out normR, out ipYO, out centroid);

    private float FromDot(int dot, ReadOnlySpan<byte> code, out float normR, out float ipYO, out int centroid) =>
        FromFactors(dot, code[_packedBytes..], out normR, out ipYO, out centroid);

    /// <summary>The estimate from Σ u_i·q̃_i and the code's factor bytes (what follows its packed grid values).</summary>
    private float FromFactors(int dot, ReadOnlySpan<byte> factors, out float normR, out float ipYO, out int centroid)
    {
        normR = BinaryPrimitives.ReadSingleLittleEndian(factors);
        ipYO = BinaryPrimitives.ReadSingleLittleEndian(factors[4..]);
        // ⟨y, q'⟩ ≈ Δ·(Σu·q̃ − (2^B − 1)/2·Σq̃), kept exact in integers (×2) until the one float multiply.
        float yq = 0.5f * _delta * (2L * dot - (long)_levels * _sumQ);
        float shift;
        (centroid, shift) = _rq.CentroidOfFactors(factors);
        // A code naming a centroid past the table is damaged: it scores as the farthest possible, never out of range.
        if ((uint)centroid >= (uint)_table.Length) { centroid = 0; return float.PositiveInfinity; }
        if (_stamp[centroid] != _query) FillCentroid(centroid);
        return Combine(yq, normR, ipYO, _table[centroid], shift);
    }

    /// <summary>
    /// The estimate from ⟨y, q'⟩ ≈ <paramref name="yq"/>, a code's factors and its centroid's query term. The one
    /// scalar formula: <see cref="FinishBlock"/>'s vector lanes repeat its operations in the same order.
    /// </summary>
    private float Combine(float yq, float normR, float ipYO, float centroidTerm, float shift) => _l2
        // ⟨r, q − c_j⟩ = ‖r‖·⟨o, P(q − c_j)⟩ ≈ ‖r‖·(⟨y, q'⟩ − ⟨y, P(c_j − center)⟩)/⟨y, o⟩.
        ? normR * normR + centroidTerm - 2 * normR * ((yq - shift) / ipYO)
        : -(centroidTerm + normR * yq / ipYO);

    /// <inheritdoc />
    /// <remarks>
    /// 1-, 2- and 4-bit codes in <see cref="RotationBlockLayout"/>: the fast-scan kernel sums the table of 4-bit indexes
    /// (exactly Σ u_i·q̃_i, as the packed kernel gives), then each code's factors turn it into the same estimate as
    /// <see cref="CodeScorer.Distance"/>, bit for bit.
    /// </remarks>
    public void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances)
    {
        var layout = _blocks ?? throw new NotSupportedException($"rq:{_rq.Bits} codes have no block layout");
        PrepareTable(layout);
        int bb = layout.BlockBytes, bv = PqFastScan.BlockVectors;
        for (int first = 0, b = 0; first < count; first += bv, b++)
        {
            int n = Math.Min(bv, count - first);
            FinishBlock(layout, packed.Slice(b * bb, bb), n, distances.Slice(first, n));
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The estimate is not monotonic in the integer sum (each code has its own factors), so every code of the blocks
    /// is converted and those at or below <paramref name="threshold"/> are returned.
    /// </remarks>
    public int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances)
    {
        if (positions.Length < count || distances.Length < count) throw new ArgumentException("output spans are shorter than count");
        var layout = _blocks ?? throw new NotSupportedException($"rq:{_rq.Bits} codes have no block layout");
        PrepareTable(layout);
        int bb = layout.BlockBytes, bv = PqFastScan.BlockVectors, found = 0;
        for (int first = 0, b = 0; first < count; first += bv, b++)
        {
            int n = Math.Min(bv, count - first);
            var blockDistances = _blockDistances.AsSpan(0, n);
            FinishBlock(layout, packed.Slice(b * bb, bb), n, blockDistances);
            for (int v = 0; v < n; v++)
            {
                float d = blockDistances[v];
                if (!(d <= threshold)) continue;
                positions[found] = first + v;
                distances[found++] = d;
            }
        }
        return found;
    }

    /// <summary>
    /// The estimates of the first <paramref name="n"/> codes of one block: the kernel's integer sums, then the
    /// factors applied 8 codes per instruction (the same float operations in the same order as
    /// <see cref="FromFactors"/>, so the same values bit for bit), or one by one without 256-bit vectors.
    /// </summary>
    private void FinishBlock(RotationBlockLayout layout, ReadOnlySpan<byte> block, int n, Span<float> output)
    {
        PqFastScan.Accumulate(block[..layout.PlaneBytes], 1, layout.SubQuantizers, _lut, _sums);
        if (layout.Planes == 2) PqFastScan.Accumulate(block.Slice(layout.PlaneBytes, layout.PlaneBytes), 1, layout.SubQuantizers, _lut, _sumsHigh);
        // Σu·q̃: the low plane's sum, plus the high plane's weighted by 2^PlaneShift; each plane's table minima
        // (_lutOffset) weighted the same way. Then x = 2·Σu·q̃ − (2^B − 1)·Σq̃, exact in int32 (|x| < 2^25).
        Span<int> x = stackalloc int[PqFastScan.BlockVectors];
        long levelsSum = (long)_levels * _sumQ;
        for (int v = 0; v < n; v++)
        {
            int dot = layout.Planes == 1 ? _sums[v] + _lutOffset : _sums[v] + _lutOffset + ((_sumsHigh[v] + _lutOffset) << layout.PlaneShift);
            x[v] = (int)(2L * dot - levelsSum);
        }
        Span<float> tab = stackalloc float[PqFastScan.BlockVectors];
        bool centroids = _table.Length > 1;
        uint damaged = 0; // positions whose centroid number is past the table
        if (!centroids) tab.Fill(_table[0]);
        else
        {
            for (int v = 0; v < n; v++)
            {
                int j = layout.CentroidAt(block, v);
                if ((uint)j >= (uint)_table.Length) { damaged |= 1u << v; tab[v] = 0; continue; }
                if (_stamp[j] != _query) FillCentroid(j);
                tab[v] = _table[j];
            }
        }
        var normR = layout.Field(block, 0);
        var ipYO = layout.Field(block, 1);
        var shift = centroids ? layout.Field(block, layout.FloatFields - 1) : default;
        float half = 0.5f * _delta;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var h = Vector256.Create(half);
            var two = Vector256.Create(2f);
            for (; i + 8 <= n; i += 8)
            {
                var yq = h * Vector256.ConvertToSingle(Vector256.Create(x.Slice(i, 8)));
                var nr = Vector256.Create(normR.Slice(i, 8));
                var ip = Vector256.Create(ipYO.Slice(i, 8));
                var t = Vector256.Create(tab.Slice(i, 8));
                Vector256<float> d;
                if (_l2)
                {
                    var sh = centroids ? Vector256.Create(shift.Slice(i, 8)) : Vector256<float>.Zero;
                    var oq = (yq - sh) / ip;
                    d = (nr * nr + t) - two * nr * oq;
                }
                else d = -(t + nr * yq / ip);
                d.CopyTo(output.Slice(i, 8));
            }
        }
        for (; i < n; i++) output[i] = Combine(half * x[i], normR[i], ipYO[i], tab[i], centroids ? shift[i] : 0f);
        for (int v = 0; damaged != 0 && v < n; v++)
            if ((damaged & (1u << v)) != 0) output[v] = float.PositiveInfinity;
    }

    // Built on the first block scan of a query: HNSW and refine score codes one by one and never need it.
    private void PrepareTable(RotationBlockLayout layout)
    {
        if (_lutReady) return;
        _lutOffset = layout.BuildTable(_q, _lut);
        _lutReady = true;
    }
}
