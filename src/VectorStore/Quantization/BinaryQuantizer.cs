using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// RaBitQ-style binary codes (<c>bin</c>; <c>bin:norot</c> skips the rotation): one bit per dimension of the rotated,
/// centred, normalised vector, plus two float32 correction factors, scored with popcount. Meant to be used with
/// re-ranking (<c>--rerank</c>).
/// </summary>
/// <remarks>
/// <para>Encoding: r = x − c (c = training mean), o = P·r/‖r‖ with P a random orthogonal matrix, bit_i = [o_i &gt; 0].
/// The code's unit vector is x̄ = (2·bit − 1)/√D. Stored: the bits, ‖r‖ and ⟨x̄, o⟩ = Σ|o_i|/√D.</para>
/// <para>Estimate: ⟨o, q'⟩ ≈ ⟨x̄, q'⟩ / ⟨x̄, o⟩ for a rotated query q' (P·(q − c) for L2, P·q for inner products); the
/// division by ⟨x̄, o⟩ is the correction that makes the estimator unbiased (RaBitQ, Gao &amp; Long 2024). Then
/// ‖x − q‖² ≈ ‖r‖² + ‖q − c‖² − 2‖r‖·⟨o, P(q − c)⟩ and ⟨x, q⟩ ≈ ⟨c, q⟩ + ‖r‖·⟨o, Pq⟩.</para>
/// <para>Scoring: q' is quantized to 4-bit unsigned levels u_i (q'_i ≈ lo + Δ·u_i), stored as 4 bit-planes, so
/// Σ_{bit_i=1} u_i = Σ_j 2^j·popcount(bits ∧ plane_j) costs 4 popcounts per 64 dimensions.</para>
/// Code layout: ⌈D/64⌉·8 bytes of bits (bit i of little-endian word i/64), f32 ‖r‖, f32 ⟨x̄, o⟩. Immutable and
/// thread-safe.
/// </remarks>
public sealed class BinaryQuantizer : VectorCodec
{
    private readonly float[] _center;
    private readonly float[]? _rotation;  // D × D row-major, or null for the identity
    private readonly int _words;

    internal BinaryQuantizer(float[] center, float[]? rotation)
    {
        int d = center.Length;
        if (rotation is not null && rotation.Length != (long)d * d) throw new InvalidDataException("bin: rotation size mismatch");
        _center = center;
        _rotation = rotation;
        _words = (d + 63) / 64;
    }

    /// <inheritdoc />
    public override string Spec => _rotation is null ? "bin:norot" : "bin";

    /// <inheritdoc />
    public override string Kind => "bin";

    /// <inheritdoc />
    public override int Dimension => _center.Length;

    /// <summary>Bytes of bits per code (without the correction factors).</summary>
    public int BitBytes => _words * 8;

    /// <inheritdoc />
    public override int CodeSize => BitBytes + 8;

    /// <inheritdoc />
    public override long ParameterBytes => (_center.Length + (_rotation?.Length ?? 0)) * sizeof(float);

    /// <summary>Trains the centre on <paramref name="sample"/> and draws a seeded random rotation.</summary>
    public static BinaryQuantizer Train(VectorMatrix sample, bool rotate, int seed)
    {
        if (sample.Count == 0) throw new InvalidArgumentException("bin needs at least one training vector");
        int d = sample.Dimension;
        var mean = new double[d];
        for (int r = 0; r < sample.Count; r++)
        {
            var row = sample.Row(r);
            for (int i = 0; i < d; i++) mean[i] += row[i];
        }
        var center = mean.Select(m => (float)(m / sample.Count)).ToArray();
        // A dense d×d rotation costs d² floats and d² flops per encode/query: beyond 4,096 dims that is no longer sensible.
        if (rotate && d > 4_096) throw new InvalidArgumentException($"bin: a random rotation of {d} dimensions is too large; use bin:norot");
        return new BinaryQuantizer(center, rotate ? RandomRotation(d, seed) : null);
    }

    /// <summary>A seeded random orthogonal matrix: Q of the QR decomposition of a Gaussian matrix (sign-fixed).</summary>
    internal static float[] RandomRotation(int d, int seed)
    {
        var rng = new Random(seed);
        var g = Matrix<double>.Build.Dense(d, d, (_, _) =>
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        });
        var qr = g.QR();
        var q = qr.Q;
        var r = qr.R;
        var result = new float[d * d];
        for (int j = 0; j < d; j++)
        {
            // Fixing the signs by diag(R) makes Q Haar-distributed rather than biased by the factorization.
            double sign = r[j, j] < 0 ? -1 : 1;
            for (int i = 0; i < d; i++) result[i * d + j] = (float)(q[i, j] * sign);
        }
        return result;
    }

    private void Rotate(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = Dimension;
        if (_rotation is null) { input.CopyTo(output); return; }
        for (int i = 0; i < d; i++) output[i] = DotProduct.Compute(input, _rotation.AsSpan(i * d, d));
    }

    private void RotateBack(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = Dimension;
        if (_rotation is null) { input.CopyTo(output); return; }
        output[..d].Clear();
        for (int i = 0; i < d; i++)
        {
            float c = input[i];
            var row = _rotation.AsSpan(i * d, d);
            for (int k = 0; k < d; k++) output[k] += c * row[k];
        }
    }

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int d = Dimension;
        if (vector.Length != d) throw new InvalidVectorException($"expected dimension {d}, got {vector.Length}");
        Span<float> r = d <= 2048 ? stackalloc float[d] : new float[d];
        Span<float> o = d <= 2048 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < d; i++) r[i] = vector[i] - _center[i];
        float norm = MathF.Sqrt(DotProduct.Compute(r, r));
        Rotate(r, o);
        var words = MemoryMarshal.Cast<byte, ulong>(code[..BitBytes]);
        words.Clear();
        double abs = 0;
        for (int i = 0; i < d; i++)
        {
            if (o[i] > 0) words[i >> 6] |= 1UL << (i & 63);
            abs += Math.Abs(o[i]);
        }
        // ⟨x̄, o⟩ with o normalised; a zero residual (x = c) gets factor 1 and norm 0, so it scores as the centre.
        float factor = norm > 0 ? (float)(abs / norm / Math.Sqrt(d)) : 1f;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("bin codes assume a little-endian CPU");
        BinaryPrimitives.WriteSingleLittleEndian(code[BitBytes..], norm);
        BinaryPrimitives.WriteSingleLittleEndian(code[(BitBytes + 4)..], factor);
    }

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        int d = Dimension;
        var words = MemoryMarshal.Cast<byte, ulong>(code[..BitBytes]);
        float norm = BinaryPrimitives.ReadSingleLittleEndian(code[BitBytes..]);
        float factor = BinaryPrimitives.ReadSingleLittleEndian(code[(BitBytes + 4)..]);
        Span<float> xbar = d <= 2048 ? stackalloc float[d] : new float[d];
        // The best linear reconstruction of o from x̄ is ⟨x̄,o⟩·x̄ (the component of o along x̄).
        float v = factor / MathF.Sqrt(d) * norm;
        for (int i = 0; i < d; i++) xbar[i] = (words[i >> 6] & (1UL << (i & 63))) != 0 ? v : -v;
        RotateBack(xbar, vector);
        for (int i = 0; i < d; i++) vector[i] += _center[i];
    }

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new BinaryScorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(_rotation is not null);
        foreach (var c in _center) writer.Write(c);
        if (_rotation is not null) foreach (var v in _rotation) writer.Write(v);
    }

    internal static BinaryQuantizer ReadParameters(BinaryReader reader)
    {
        int d = reader.ReadInt32();
        if (d is <= 0 or > 1 << 14) throw new InvalidDataException($"bin: bad dimension {d}");
        bool rot = reader.ReadBoolean();
        var center = new float[d];
        for (int i = 0; i < d; i++) center[i] = reader.ReadSingle();
        float[]? rotation = null;
        if (rot)
        {
            rotation = new float[d * d];
            for (int i = 0; i < rotation.Length; i++) rotation[i] = reader.ReadSingle();
        }
        return new BinaryQuantizer(center, rotation);
    }

    /// <summary>
    /// Per-query state: the rotated query as 4 bit-planes of 4-bit levels, and the constants of the estimator.
    /// Not thread-safe (one per search thread); scoring allocates nothing.
    /// </summary>
    internal sealed class BinaryScorer : CodeScorer
    {
        private readonly BinaryQuantizer _bq;
        private readonly DistanceKind _kind;
        private readonly float[] _shifted;
        private readonly float[] _rotated;
        private readonly ulong[] _planes;   // 4 planes × words: plane j holds bit j of every level
        private readonly float _invSqrtD;
        private float _lo, _delta, _sumLevels, _qNormSq, _qDotCenter;

        public BinaryScorer(BinaryQuantizer bq, DistanceKind kind) : base(bq)
        {
            _bq = bq;
            _kind = kind;
            _shifted = new float[bq.Dimension];
            _rotated = new float[bq.Dimension];
            _planes = new ulong[4 * bq._words];
            _invSqrtD = 1f / MathF.Sqrt(bq.Dimension);
        }

        /// <summary>The rotated query before 4-bit quantization (for tests).</summary>
        internal ReadOnlySpan<float> RotatedQuery => _rotated;

        /// <summary>The de-quantized level of rotated dimension i: lo + Δ·u_i (for the scalar reference).</summary>
        internal float Level(int i)
        {
            int w = i >> 6, b = i & 63, words = _bq._words, u = 0;
            for (int j = 0; j < 4; j++) if ((_planes[j * words + w] & (1UL << b)) != 0) u |= 1 << j;
            return _lo + _delta * u;
        }

        public override void SetQuery(ReadOnlySpan<float> query)
        {
            int d = _bq.Dimension;
            if (query.Length != d) throw new InvalidVectorException($"expected dimension {d}, got {query.Length}");
            _qDotCenter = DotProduct.Compute(query, _bq._center);
            if (_kind == DistanceKind.L2)
                for (int i = 0; i < d; i++) _shifted[i] = query[i] - _bq._center[i];
            else
                query.CopyTo(_shifted);
            _qNormSq = DotProduct.Compute(_shifted, _shifted);
            _bq.Rotate(_shifted, _rotated);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int i = 0; i < d; i++) { lo = MathF.Min(lo, _rotated[i]); hi = MathF.Max(hi, _rotated[i]); }
            _lo = lo;
            _delta = hi > lo ? (hi - lo) / 15f : 1f;
            Array.Clear(_planes);
            int words = _bq._words;
            float sum = 0;
            for (int i = 0; i < d; i++)
            {
                int u = (int)MathF.Round((_rotated[i] - lo) / _delta);
                u = Math.Clamp(u, 0, 15);
                sum += u;
                for (int j = 0; j < 4; j++)
                    if ((u & (1 << j)) != 0) _planes[j * words + (i >> 6)] |= 1UL << (i & 63);
            }
            _sumLevels = sum;
        }

        /// <summary>⟨x̄, q̃'⟩·√D from popcounts: Σ(2b_i − 1)(lo + Δu_i) over the real dimensions.</summary>
        internal float SignedDot(ReadOnlySpan<ulong> bits)
        {
            float selected = PopCountPlanes.Compute(bits[.._bq._words], _planes, out int ones);
            int d = _bq.Dimension;
            return 2 * (_delta * selected + _lo * ones) - (_delta * _sumLevels + _lo * d);
        }

        /// <summary>The same quantity by a plain loop over de-quantized levels: the reference the popcount path is tested against.</summary>
        internal float SignedDotReference(ReadOnlySpan<ulong> bits)
        {
            double s = 0;
            for (int i = 0; i < _bq.Dimension; i++)
                s += ((bits[i >> 6] & (1UL << (i & 63))) != 0 ? 1 : -1) * (double)Level(i);
            return (float)s;
        }

        /// <summary>
        /// The block kernel: the same arithmetic as <see cref="Distance"/>, so the per-code work is the popcount kernel
        /// (<see cref="PopCountPlanes"/>) and a few multiplies, with no virtual call per code.
        /// </summary>
        public override void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
        {
            int words = _bq._words, bitBytes = words * 8, d = _bq.Dimension;
            float delta2 = 2 * _delta, lo2 = 2 * _lo, offset = _delta * _sumLevels + _lo * d, inv = _invSqrtD;
            bool l2 = _kind == DistanceKind.L2;
            for (int i = 0; i < distances.Length; i++)
            {
                var code = codes.Slice(i * codeSize, codeSize);
                var bits = MemoryMarshal.Cast<byte, ulong>(code[..bitBytes]);
                int selected = PopCountPlanes.Compute(bits, _planes, out int ones);
                float signed = delta2 * selected + lo2 * ones - offset;
                float norm = BinaryPrimitives.ReadSingleLittleEndian(code[bitBytes..]);
                float factor = BinaryPrimitives.ReadSingleLittleEndian(code[(bitBytes + 4)..]);
                float oq = signed * inv / factor;
                distances[i] = l2 ? norm * norm + _qNormSq - 2 * norm * oq : -(_qDotCenter + norm * oq);
            }
        }

        public override float Distance(ReadOnlySpan<byte> code)
        {
            int bitBytes = _bq.BitBytes;
            var bits = MemoryMarshal.Cast<byte, ulong>(code[..bitBytes]);
            float norm = BinaryPrimitives.ReadSingleLittleEndian(code[bitBytes..]);
            float factor = BinaryPrimitives.ReadSingleLittleEndian(code[(bitBytes + 4)..]);
            float oq = SignedDot(bits) * _invSqrtD / factor;
            if (_kind == DistanceKind.L2) return norm * norm + _qNormSq - 2 * norm * oq;
            return -(_qDotCenter + norm * oq);
        }
    }
}
