using System.Buffers.Binary;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// Scores <c>rq:B</c> codes (<see cref="RotationQuantizer"/>) against one query, with a per-candidate error bound
/// (<see cref="DistanceWithBound"/>). Not thread-safe: one per search thread; scoring allocates nothing.
/// </summary>
/// <remarks>
/// <para>The rotated query q' (P·(q − c) for L2, P·q for inner products) is quantized once per query to int8 with one
/// scale Δ = max|q'_i|/127, so ⟨y, q'⟩ ≈ Δ·(Σ u_i·q̃_i − (2^B − 1)/2·Σ q̃_i) where the sum over the packed codes is an
/// exact integer kernel (<see cref="PackedCodeDot"/>), one call per packed part of the code.</para>
/// <para>Error bound: the estimate of ⟨o, q'⟩ has two independent errors, the code's (standard deviation at most
/// ‖q'‖·√(1 − cos²)/(cos·√(D − 1)), cos = ⟨y, o⟩/‖y‖, RaBitQ) and the query rounding's (each q̃ error uniform in
/// ±Δ/2, so Δ/(√12·cos)). The bound is <see cref="BoundSigmas"/> standard deviations of their sum, scaled to the
/// distance (2‖r‖ for L2, ‖r‖ for inner products); with the default 3, about 0.3 % of estimates fall outside it.</para>
/// </remarks>
public sealed class RotationScorer : CodeScorer, IBoundedScorer
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
        _delta = max > 0 ? max / 127f : 1f;
        float inv = 1f / _delta;
        int sum = 0;
        for (int i = 0; i < _dim; i++)
        {
            int v = Math.Clamp((int)MathF.Round(_rotated[i] * inv), -127, 127);
            _q[i] = (sbyte)v;
            sum += v;
        }
        _sumQ = sum;
        for (int p = 0; p < _parts.Length; p++) PackedCodeDot.SplitQuery(_q, _parts[p].Bits, _split[p]);
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
    public override float Distance(ReadOnlySpan<byte> code) => Estimate(code, out _, out _);

    /// <inheritdoc />
    public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
    {
        for (int i = 0; i < distances.Length; i++)
            distances[i] = FromDot(CodeDot(codes.Slice(i * codeSize, codeSize)), codes.Slice(i * codeSize, codeSize), out _, out _);
    }

    /// <inheritdoc />
    /// <remarks>See the type's remarks for the bound: <see cref="BoundSigmas"/> standard deviations of the estimate.</remarks>
    public float DistanceWithBound(ReadOnlySpan<byte> code, out float bound)
    {
        float d = Estimate(code, out float normR, out float ipYO);
        float normY = _rq.Bits > 1 ? BinaryPrimitives.ReadSingleLittleEndian(code[(_packedBytes + 8)..]) : _defaultNormY;
        float cos = ipYO / normY;
        float codeSigma = _qNorm * MathF.Sqrt(MathF.Max(0, 1 - cos * cos)) / cos * _invSqrtDm1;
        float query = _delta / (MathF.Sqrt(12f) * cos);
        float sigma = MathF.Sqrt(codeSigma * codeSigma + query * query);
        bound = BoundSigmas * sigma * (_l2 ? 2 * normR : normR);
        return d;
    }

    /// <summary><see cref="Distance"/> through the scalar reference kernel: the same value, bit for bit.</summary>
    internal float DistanceScalar(ReadOnlySpan<byte> code) => FromDot(CodeDot(code, reference: true), code, out _, out _);

    private float Estimate(ReadOnlySpan<byte> code, out float normR, out float ipYO) => FromDot(CodeDot(code), code, out normR, out ipYO);

    private float FromDot(int dot, ReadOnlySpan<byte> code, out float normR, out float ipYO)
    {
        normR = BinaryPrimitives.ReadSingleLittleEndian(code[_packedBytes..]);
        ipYO = BinaryPrimitives.ReadSingleLittleEndian(code[(_packedBytes + 4)..]);
        // ⟨y, q'⟩ ≈ Δ·(Σu·q̃ − (2^B − 1)/2·Σq̃), kept exact in integers (×2) until the one float multiply.
        float yq = 0.5f * _delta * (2L * dot - (long)_levels * _sumQ);
        float oq = yq / ipYO;
        return _l2 ? normR * normR + _qNormSq - 2 * normR * oq : -(_qDotCenter + normR * oq);
    }
}
