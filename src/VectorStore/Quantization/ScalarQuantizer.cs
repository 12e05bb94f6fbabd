using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Distance;
using VectorStore.Ranking;
using VectorStore.Threading;

namespace VectorStore.Quantization;

/// <summary>
/// Calibrated int8 scalar quantization (<c>sq8</c>; <c>sq8:pv</c> adds a per-vector scale). Each dimension d maps its
/// clipped range [lo_d, hi_d] onto −127..127: x_d ≈ mid_d + step_d·c_d.
/// </summary>
/// <remarks>
/// Code layout (little-endian): <c>dim</c> int8 values, then float32 ‖x̂‖² (the reconstruction's squared norm, so L2
/// needs only one dot product), then, with a per-vector scale, float32 scale. Asymmetric scoring folds the steps into
/// the query: q·x̂ = s·(q·mid + Σ (q_d·step_d)·c_d). Immutable and thread-safe.
/// </remarks>
public sealed class ScalarQuantizer : VectorCodec, ISaturatingCodec
{
    private readonly float[] _mid;
    private readonly float[] _step;
    private readonly float[] _invStep;

    internal ScalarQuantizer(float[] mid, float[] step, bool perVectorScale)
    {
        _mid = mid;
        _step = step;
        _invStep = step.Select(s => s > 0 ? 1f / s : 0f).ToArray();
        PerVectorScale = perVectorScale;
    }

    /// <summary>Whether codes carry a per-vector scale.</summary>
    public bool PerVectorScale { get; }

    /// <inheritdoc />
    public override string Spec => PerVectorScale ? "sq8:pv" : "sq8";

    /// <inheritdoc />
    public override string Kind => "sq8";

    /// <inheritdoc />
    public override int Dimension => _mid.Length;

    /// <inheritdoc />
    public override int CodeSize => Dimension + (PerVectorScale ? 8 : 4);

    /// <inheritdoc />
    public override long ParameterBytes => 3L * Dimension * sizeof(float);

    /// <summary>Per-dimension centre of the quantized range.</summary>
    public ReadOnlySpan<float> Mid => _mid;

    /// <summary>Per-dimension step between adjacent codes.</summary>
    public ReadOnlySpan<float> Step => _step;

    /// <summary>Trains per-dimension ranges from value quantiles of <paramref name="sample"/>.</summary>
    public static ScalarQuantizer Train(VectorMatrix sample, ScalarQuantizerOptions? options = null)
    {
        options ??= new ScalarQuantizerOptions();
        if (options.ClipQuantile is < 0 or >= 0.5) throw new InvalidArgumentException("clip quantile must be in [0, 0.5)");
        if (sample.Count == 0) throw new InvalidArgumentException("sq8 needs at least one training vector");
        var data = sample.Sample(options.MaxTrainingVectors, 7);
        int dim = data.Dimension, n = data.Count;
        if (options.PerVectorScale)
        {
            for (int i = 0; i < n; i++)
            {
                float s = VectorScale(data.Row(i));
                var row = data[i];
                for (int d = 0; d < dim; d++) row[d] /= s;
            }
        }
        var mid = new float[dim];
        var step = new float[dim];
        Parallel.For(0, dim, EngineParallel.Options(), () => new float[n], (d, _, column) =>
        {
            for (int i = 0; i < n; i++) column[i] = data.Data[(long)i * dim + d];
            // Two order statistics, not a sort: selecting the high one first leaves the low one on its side of it
            // (after it only when rounding inward crossed them, with very few values).
            int iLo = QuantileIndex(n, options.ClipQuantile), iHi = QuantileIndex(n, 1 - options.ClipQuantile);
            float hi = OrderStatistic.Select(column, iHi);
            float lo = iLo <= iHi ? OrderStatistic.Select(column.AsSpan(0, iHi + 1), iLo) : OrderStatistic.Select(column.AsSpan(iHi), iLo - iHi);
            if (!(hi > lo)) hi = lo + 1e-6f;
            mid[d] = (lo + hi) * 0.5f;
            step[d] = (hi - lo) / 254f;
            return column;
        }, _ => { });
        return new ScalarQuantizer(mid, step, options.PerVectorScale);
    }

    /// <summary>
    /// sq8 for a bounded second stage (<see cref="RefineStage"/>): trained unclipped, each range then widened by one
    /// code on each side, so the sample's extremes encode to ±126 and a saturated ±127 marks a value at least half a
    /// step beyond anything the sample held (one that may have been clipped). Without the margin a vector at a
    /// dimension's minimum — common in SIFT, whose coordinates are often 0 — would saturate without being clipped and
    /// lose its bound (measured: 99.7 reads per query of 100 on SIFT 10k).
    /// </summary>
    internal static ScalarQuantizer TrainForBound(VectorMatrix sample, bool perVectorScale)
    {
        var sq = Train(sample, new ScalarQuantizerOptions { PerVectorScale = perVectorScale, ClipQuantile = 0 });
        return new ScalarQuantizer(sq._mid, sq._step.Select(s => s * 127f / 126f).ToArray(), perVectorScale);
    }

    /// <summary>The sorted position of quantile <paramref name="q"/> of <paramref name="n"/> values.</summary>
    private static int QuantileIndex(int n, double q)
    {
        // Round inward (never interpolate towards the tail), so a single clipped outlier cannot leak into the range.
        double pos = q * (n - 1);
        int i = q < 0.5 ? (int)Math.Ceiling(pos) : (int)Math.Floor(pos);
        return Math.Clamp(i, 0, n - 1);
    }

    private static float VectorScale(ReadOnlySpan<float> v)
    {
        // The L2 norm: scale-free codes then carry direction, the scale carries magnitude.
        float n = MathF.Sqrt(DotProduct.Compute(v, v));
        return n > 0 ? n : 1f;
    }

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int dim = Dimension;
        if (vector.Length != dim) throw new InvalidVectorException($"expected dimension {dim}, got {vector.Length}");
        float scale = PerVectorScale ? VectorScale(vector) : 1f;
        float inv = 1f / scale;
        double norm = Sq8Encode.Encode(vector, inv, scale, _mid, _step, _invStep, MemoryMarshal.Cast<byte, sbyte>(code[..dim]));
        BinaryPrimitives.WriteSingleLittleEndian(code[dim..], (float)norm);
        if (PerVectorScale) BinaryPrimitives.WriteSingleLittleEndian(code[(dim + 4)..], scale);
    }

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        int dim = Dimension;
        var c = MemoryMarshal.Cast<byte, sbyte>(code[..dim]);
        float scale = PerVectorScale ? BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..]) : 1f;
        for (int d = 0; d < dim; d++) vector[d] = (_mid[d] + _step[d] * c[d]) * scale;
    }

    /// <inheritdoc />
    public override float CodeDistance(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, DistanceKind kind)
    {
        int dim = Dimension;
        Span<float> x = dim <= 1024 ? stackalloc float[dim] : new float[dim];
        Decode(a, x);
        // Decoding one side keeps this exact for the asymmetric formula without a second float buffer.
        float dot = DotWithCode(x, b);
        if (kind == DistanceKind.NegativeDot) return -dot;
        float nb = BinaryPrimitives.ReadSingleLittleEndian(b[dim..]);
        return DotProduct.Compute(x, x) - 2 * dot + nb;
    }

    private float DotWithCode(ReadOnlySpan<float> v, ReadOnlySpan<byte> code)
    {
        int dim = Dimension;
        Span<float> scaled = dim <= 1024 ? stackalloc float[dim] : new float[dim];
        for (int d = 0; d < dim; d++) scaled[d] = v[d] * _step[d];
        float dot = DotProduct.Compute(v, _mid) + DotProductF32I8.Compute(scaled, MemoryMarshal.Cast<byte, sbyte>(code[..dim]));
        return PerVectorScale ? dot * BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..]) : dot;
    }

    /// <inheritdoc />
    public int QuantizedDimensions => Dimension;

    /// <inheritdoc />
    /// <remarks>With a per-vector scale the range applies to the scaled vector, as <see cref="Encode"/> quantizes it.</remarks>
    public int CountSaturated(ReadOnlySpan<byte> code)
    {
        var c = Quantized(code);
        return c.Count(EndCode) + c.Count((sbyte)-EndCode);
    }

    /// <summary>Whether any coordinate of <paramref name="code"/> sits at an end code (what <see cref="CountSaturated"/> counts).</summary>
    internal bool HasSaturated(ReadOnlySpan<byte> code) => Quantized(code).IndexOfAny(EndCode, (sbyte)-EndCode) >= 0;

    /// <summary>The end code: a coordinate at ±<c>EndCode</c> was at or beyond its trained range's edge.</summary>
    private const sbyte EndCode = 127;

    /// <summary>The quantized coordinates of <paramref name="code"/> (before any per-vector trailer).</summary>
    private ReadOnlySpan<sbyte> Quantized(ReadOnlySpan<byte> code) => MemoryMarshal.Cast<byte, sbyte>(code[..Dimension]);

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new Scorer(this, kind);

    /// <inheritdoc />
    /// <remarks>The symmetric int8 kernel (<see cref="Sq8TraversalScorer"/>): the query is rounded to int8 too.</remarks>
    public override CodeScorer CreateTraversalScorer(DistanceKind kind) => new Sq8TraversalScorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(PerVectorScale);
        writer.Write(Dimension);
        foreach (var m in _mid) writer.Write(m);
        foreach (var s in _step) writer.Write(s);
    }

    internal static ScalarQuantizer ReadParameters(BinaryReader reader)
    {
        bool pv = reader.ReadBoolean();
        int dim = reader.ReadInt32();
        if (dim is <= 0 or > 1 << 20) throw new InvalidDataException($"sq8: bad dimension {dim}");
        var mid = new float[dim];
        var step = new float[dim];
        for (int d = 0; d < dim; d++) mid[d] = reader.ReadSingle();
        for (int d = 0; d < dim; d++) step[d] = reader.ReadSingle();
        return new ScalarQuantizer(mid, step, pv);
    }

    /// <summary>
    /// Standard deviations of the rounding error that the scorer's <see cref="IBoundedScorer.DistanceWithBound"/> bound
    /// spans: with 3, about 0.3 % of estimates fall outside it.
    /// </summary>
    internal const float BoundSigmas = 3f;

    /// <summary>
    /// Per-query state: the query with steps folded in, and the constant q·mid. Implements <see cref="IBoundedScorer"/>,
    /// so sq8 can be the second, in-RAM stage (<c>CollectionOptions.Refine</c>) after a coarser code.
    /// </summary>
    /// <remarks>
    /// <para>Error bound: a coordinate inside its clipping range is off by its rounding error e_d, uniform in
    /// ±s·step_d/2 (s the per-vector scale, else 1) and independent across coordinates. For inner products the
    /// estimate is off by q·e, whose standard deviation is s·√(Σ (q_d·step_d)² / 12): one number per query. For L2,
    /// exact − estimate = 2(x̂ − q)·e + ‖e‖²; the first term's standard deviation is at most
    /// 2·s·max_d step_d·‖x̂ − q‖/√12, with ‖x̂ − q‖² the estimate itself, and ‖e‖² is at most s²·Σ step_d²/4. The bound is
    /// <see cref="BoundSigmas"/> standard deviations plus that term and float rounding of the summed terms. A coordinate
    /// clipped at training's range (<see cref="ScalarQuantizerOptions.ClipQuantile"/>) errs by more, by an amount the
    /// code does not keep, so a code with a saturated coordinate (±127) gets no bound (+∞): the refine stage reads it.
    /// Measured without that rule on out-of-sample vectors: about 6 % of estimates fell outside the bound, nearly all
    /// of them codes with a clipped coordinate.</para>
    /// </remarks>
    private sealed class Scorer(ScalarQuantizer codec, DistanceKind kind) : CodeScorer(codec), IBoundedScorer
    {
        private static readonly float s_invSqrt12 = 1f / MathF.Sqrt(12f);
        private readonly ScalarQuantizer _sq = codec;
        private readonly float[] _scaled = new float[codec.Dimension];
        private readonly float _stepMax = codec._step.Max();
        private readonly float _errorSquaredMax = codec._step.Sum(t => t * t) / 4;
        private float _qMid;
        private float _qNorm;
        private float _dotSigma;
        private float _magnitude;
        private bool _boundReady;

        public override void SetQuery(ReadOnlySpan<float> query)
        {
            if (query.Length != _scaled.Length) throw new InvalidVectorException($"expected dimension {_scaled.Length}, got {query.Length}");
            for (int d = 0; d < _scaled.Length; d++) _scaled[d] = query[d] * _sq._step[d];
            _qMid = DotProduct.Compute(query, _sq._mid);
            _qNorm = DotProduct.Compute(query, query);
            // The bound's per-query terms wait for the first bounded score: as the index's scorer, sq8 never needs them.
            _boundReady = false;
        }

        private void PrepareBound()
        {
            _dotSigma = MathF.Sqrt(DotProduct.Compute(_scaled, _scaled)) * s_invSqrt12;
            // The largest the summed terms of an estimate can be, for the float rounding term: |q·mid| + 127·Σ|q_d·step_d|.
            float abs = 0;
            foreach (float v in _scaled) abs += MathF.Abs(v);
            _magnitude = MathF.Abs(_qMid) + 127 * abs;
            _boundReady = true;
        }

        /// <inheritdoc />
        public float DistanceWithBound(ReadOnlySpan<byte> code, out float bound)
        {
            if (!_boundReady) PrepareBound();
            float d = Distance(code);
            int dim = _scaled.Length;
            // A saturated coordinate may have been clipped, by an amount the code does not record: no interval, so
            // the refine stage reads this candidate at full precision.
            if (_sq.HasSaturated(code))
            {
                bound = float.PositiveInfinity;
                return d;
            }
            float s = _sq.PerVectorScale ? MathF.Abs(BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..])) : 1f;
            // Float32 rounding of the dot product's terms: about √D rounding steps of their magnitude.
            float rounding = 1e-6f * MathF.Sqrt(dim) * s * _magnitude;
            if (kind == DistanceKind.NegativeDot)
            {
                bound = BoundSigmas * s * _dotSigma + rounding;
                return d;
            }
            float norm = BinaryPrimitives.ReadSingleLittleEndian(code[dim..]);
            float spread = 2 * s * _stepMax * s_invSqrt12 * MathF.Sqrt(MathF.Max(d, 0));
            bound = BoundSigmas * spread + s * s * _errorSquaredMax + 2 * rounding + 1e-6f * MathF.Sqrt(dim) * (_qNorm + norm);
            return d;
        }

        public override float Distance(ReadOnlySpan<byte> code)
        {
            int dim = _scaled.Length;
            float dot = _qMid + DotProductF32I8.Compute(_scaled, MemoryMarshal.Cast<byte, sbyte>(code[..dim]));
            if (_sq.PerVectorScale) dot *= BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..]);
            if (kind == DistanceKind.NegativeDot) return -dot;
            return _qNorm - 2 * dot + BinaryPrimitives.ReadSingleLittleEndian(code[dim..]);
        }

        // Optimized from the first call for the reason Float32Codec's scorer gives.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
        {
            for (int i = 0; i < distances.Length; i++) distances[i] = Distance(codes.Slice(i * codeSize, codeSize));
        }
    }
}
