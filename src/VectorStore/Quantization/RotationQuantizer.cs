using System.Buffers.Binary;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// Rotation-based multi-bit codes (<c>rq:B</c>, B = 1 … 8 bits per dimension), chosen as in extended RaBitQ (Gao et al.,
/// SIGMOD 2025): a seeded random rotation of the centred, normalised vector, then the B-bit grid point with the largest
/// cosine to it, plus per-vector factors that make the inner-product estimate unbiased and give it an error bound.
/// </summary>
/// <remarks>
/// <para>Encoding: r = x − c (c = training mean), o = P·r/‖r‖ (P a random orthogonal matrix). The grid is
/// y ∈ {−(2^B−1)/2, …, (2^B−1)/2}^D in steps of 1 (stored as u = y + (2^B−1)/2 ∈ 0 … 2^B−1): the sign of y_i is the sign
/// of o_i, and the magnitudes are ⌊t·|o_i|⌋ + ½ (capped) for the rescale t that maximises ⟨y, o⟩/‖y‖, found by sweeping t
/// over the points where a coordinate steps up (<see cref="ChooseCode"/>). That is not plain rounding: plain rounding of
/// a fixed scale wastes levels on the few large coordinates of a rotated vector.</para>
/// <para>Estimate: for a rotated query q', ⟨o, q'⟩ ≈ ⟨y, q'⟩/⟨y, o⟩, unbiased over the random rotation; its error is
/// ‖q'‖·√(1 − cos²)/cos/√(D − 1) per standard deviation, cos = ⟨y, o⟩/‖y‖ (RaBitQ's bound). Then
/// ‖x − q‖² ≈ ‖r‖² + ‖q − c‖² − 2‖r‖·⟨o, P(q − c)⟩ and ⟨x, q⟩ ≈ ⟨c, q⟩ + ‖r‖·⟨o, Pq⟩ (cosine = inner product of
/// normalised vectors). <see cref="RotationScorer"/> does the scoring with an int8 query and integer kernels.</para>
/// <para>Rotation: a dense Haar-random D×D matrix, not a fast Hadamard transform. A Hadamard transform needs a power of
/// two: 384-d text embeddings would be padded to 512, costing 33 % more code bytes per vector for good, or mixed by
/// overlapping transforms whose randomness is only approximate. The speed argument for Hadamard is weak here:
/// <c>RotationCostBenchmarks</c> measured the dense 384-d rotation at 12.4 µs and three rounds of sign flips plus a
/// 512-point Walsh–Hadamard transform at 11.7 µs (scalar; SIMD would be a few times faster). Either is a per-query and
/// per-encode cost, about what scoring 500 codes costs, and the dense matrix is the rotation RaBitQ's unbiasedness and
/// error bound are proved for. Its D² floats (590 KB at 384-d) are the price; like <c>bin</c>, it is refused above
/// 4,096 dimensions (compose with <c>pca:D+rq:B</c>).</para>
/// <para>Code layout: the B bits of u split into parts of 1, 2, 4 or 8 bits (<see cref="Parts"/>), each part packed by
/// <see cref="PackedCodeDot.Pack"/>, lowest bits first; then f32 ‖r‖, f32 ⟨y, o⟩ and, for B &gt; 1, f32 ‖y‖ (for B = 1,
/// ‖y‖ = √D/2). Immutable and thread-safe.</para>
/// </remarks>
public sealed class RotationQuantizer : VectorCodec
{
    /// <summary>Largest input dimension a dense rotation is drawn for.</summary>
    public const int MaxDimension = 4_096;

    private static readonly double[] s_tightStart = [0, 0.15, 0.20, 0.52, 0.59, 0.71, 0.75, 0.77];
    private readonly float[] _center;
    private readonly float[] _rotation;   // D × D row-major
    private readonly float[] _rotatedCenter;
    private readonly (int Bits, int Shift, int Offset, int Bytes)[] _parts;
    private readonly int _packedBytes;

    internal RotationQuantizer(int bits, float[] center, float[] rotation)
    {
        int d = center.Length;
        if (bits is < 1 or > 8) throw new InvalidDataException($"rq: bad bit count {bits}");
        if (rotation.Length != (long)d * d) throw new InvalidDataException("rq: rotation size mismatch");
        Bits = bits;
        _center = center;
        _rotation = rotation;
        _rotatedCenter = new float[d];
        Rotate(center, _rotatedCenter);
        var parts = Parts(bits);
        _parts = new (int, int, int, int)[parts.Length];
        int offset = 0;
        for (int p = 0; p < parts.Length; p++)
        {
            int bytes = PackedCodeDot.PackedBytes(d, parts[p].Bits);
            _parts[p] = (parts[p].Bits, parts[p].Shift, offset, bytes);
            offset += bytes;
        }
        _packedBytes = offset;
    }

    /// <summary>Bits per dimension (B).</summary>
    public int Bits { get; }

    /// <inheritdoc />
    public override string Spec => $"rq:{Bits}";

    /// <inheritdoc />
    public override string Kind => "rq";

    /// <inheritdoc />
    public override int Dimension => _center.Length;

    /// <summary>Bytes of packed grid codes per vector (without the factors).</summary>
    public int PackedBytes => _packedBytes;

    /// <inheritdoc />
    public override int CodeSize => _packedBytes + (Bits == 1 ? 8 : 12);

    /// <inheritdoc />
    public override long ParameterBytes => (2L * _center.Length + _rotation.Length) * sizeof(float);

    /// <summary>
    /// How B bits split into packed parts of 1, 2, 4 or 8 bits (the widths <see cref="PackedCodeDot"/> reads), lowest
    /// bits first: u = Σ part_p · 2^shift_p, so ⟨u, q⟩ = Σ 2^shift_p·⟨part_p, q⟩.
    /// </summary>
    internal static (int Bits, int Shift)[] Parts(int bits) => bits switch
    {
        1 => [(1, 0)],
        2 => [(2, 0)],
        3 => [(2, 0), (1, 2)],
        4 => [(4, 0)],
        5 => [(4, 0), (1, 4)],
        6 => [(4, 0), (2, 4)],
        7 => [(4, 0), (2, 4), (1, 6)],
        8 => [(8, 0)],
        _ => throw new InvalidArgumentException($"rq takes 1 to 8 bits per dimension, got {bits}"),
    };

    internal ReadOnlySpan<(int Bits, int Shift, int Offset, int Bytes)> PartLayout => _parts;

    internal ReadOnlySpan<float> Center => _center;

    internal ReadOnlySpan<float> RotatedCenter => _rotatedCenter;

    /// <summary>Trains the centre on <paramref name="sample"/> and draws a seeded random rotation.</summary>
    public static RotationQuantizer Train(VectorMatrix sample, int bits, int seed)
    {
        Parts(bits);
        if (sample.Count == 0) throw new InvalidArgumentException("rq needs at least one training vector");
        int d = sample.Dimension;
        if (d > MaxDimension) throw new InvalidArgumentException($"rq: a random rotation of {d} dimensions is too large; compose with pca:D+rq:{bits}");
        var mean = new double[d];
        for (int r = 0; r < sample.Count; r++)
        {
            var row = sample.Row(r);
            for (int i = 0; i < d; i++) mean[i] += row[i];
        }
        var center = mean.Select(m => (float)(m / sample.Count)).ToArray();
        return new RotationQuantizer(bits, center, BinaryQuantizer.RandomRotation(d, seed));
    }

    /// <summary>output = P·input.</summary>
    internal void Rotate(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = Dimension;
        for (int i = 0; i < d; i++) output[i] = DotProduct.Compute(input, _rotation.AsSpan(i * d, d));
    }

    /// <summary>output = Pᵀ·input (the inverse rotation).</summary>
    private void Unrotate(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = Dimension;
        output[..d].Clear();
        for (int i = 0; i < d; i++)
        {
            float c = input[i];
            if (c == 0) continue;
            var row = _rotation.AsSpan(i * d, d);
            for (int k = 0; k < d; k++) output[k] += c * row[k];
        }
    }

    /// <summary>
    /// The grid code of the unit vector <paramref name="o"/>: u_i ∈ 0 … 2^B − 1 (y_i = u_i − (2^B − 1)/2) maximising
    /// ⟨y, o⟩/‖y‖. Returns ⟨y, o⟩ and ‖y‖.
    /// </summary>
    internal static (double IpYO, double NormY) ChooseCode(ReadOnlySpan<float> o, int bits, Span<byte> u)
    {
        int d = o.Length, ex = bits - 1, half = 1 << ex;
        if (ex == 0)
        {
            for (int i = 0; i < d; i++) u[i] = (byte)(o[i] > 0 ? 1 : 0);
        }
        else
        {
            double t = BestRescale(o, ex);
            int max = half - 1;
            for (int i = 0; i < d; i++)
            {
                int k = Math.Min((int)(t * Math.Abs(o[i]) + 1e-5), max);
                u[i] = (byte)(o[i] > 0 ? half + k : half - 1 - k);
            }
        }
        double ip = 0, norm = 0, m = half - 0.5;
        for (int i = 0; i < d; i++)
        {
            double y = u[i] - m;
            ip += y * o[i];
            norm += y * y;
        }
        return (ip, Math.Sqrt(norm));
    }

    /// <summary>
    /// The rescale t for magnitudes k_i = min(⌊t·|o_i|⌋, 2^ex − 1) that maximises Σ(k_i + ½)|o_i| / √Σ(k_i + ½)²: every
    /// t at which some k_i steps up is visited in increasing order (a heap of next steps) with the objective updated in
    /// O(1), up to 10 steps past the point where the largest coordinate saturates (as extended RaBitQ does). The sweep
    /// starts at a fraction of that end below which the optimum does not lie for the near-Gaussian coordinates of a
    /// rotated vector: the extended-RaBitQ authors' table, lowered by 15 % because at 128–384 dimensions their values
    /// start just above the optimum (measured: <c>GridCodeBeatsEveryFixedRescale</c>).
    /// </summary>
    private static double BestRescale(ReadOnlySpan<float> o, int ex)
    {
        int d = o.Length, max = (1 << ex) - 1;
        double maxO = 0;
        for (int i = 0; i < d; i++) maxO = Math.Max(maxO, Math.Abs(o[i]));
        if (maxO <= 0) return 0;
        double tEnd = (max + 10) / maxO, tStart = tEnd * 0.85 * s_tightStart[ex];
        var k = new int[d];
        var heap = new PriorityQueue<int, double>(d);
        double num = 0, den = 0;
        for (int i = 0; i < d; i++)
        {
            double a = Math.Abs(o[i]);
            k[i] = Math.Min((int)(tStart * a + 1e-5), max);
            num += (k[i] + 0.5) * a;
            den += (k[i] + 0.5) * (k[i] + 0.5);
            if (a > 0 && k[i] < max) heap.Enqueue(i, (k[i] + 1) / a);
        }
        double best = num / Math.Sqrt(den), bestT = tStart;
        while (heap.TryDequeue(out int i, out double t))
        {
            double a = Math.Abs(o[i]);
            int next = ++k[i];
            num += a;
            den += 2.0 * next;   // (k+1+½)² − (k+½)² = 2(k+1)
            double ip = num / Math.Sqrt(den);
            if (ip > best) { best = ip; bestT = t; }
            if (next < max)
            {
                double tn = (next + 1) / a;
                if (tn < tEnd) heap.Enqueue(i, tn);
            }
        }
        return bestT;
    }

    /// <inheritdoc />
    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int d = Dimension;
        if (vector.Length != d) throw new InvalidVectorException($"expected dimension {d}, got {vector.Length}");
        if (code.Length < CodeSize) throw new ArgumentException($"rq: a code needs {CodeSize} bytes", nameof(code));
        Span<float> r = d <= 2048 ? stackalloc float[d] : new float[d];
        Span<float> o = d <= 2048 ? stackalloc float[d] : new float[d];
        Span<byte> u = d <= 4096 ? stackalloc byte[d] : new byte[d];
        Span<byte> part = d <= 4096 ? stackalloc byte[d] : new byte[d];
        for (int i = 0; i < d; i++) r[i] = vector[i] - _center[i];
        float norm = MathF.Sqrt(DotProduct.Compute(r, r));
        if (norm > 0)
        {
            Rotate(r, o);
            float inv = 1f / norm;
            for (int i = 0; i < d; i++) o[i] *= inv;
        }
        else
        {
            // x = c: any unit direction gives a valid code; ‖r‖ = 0 makes it score as the centre.
            o.Fill(1f / MathF.Sqrt(d));
        }
        var (ip, normY) = ChooseCode(o, Bits, u);
        foreach (var (bits, shift, offset, bytes) in _parts)
        {
            int mask = (1 << bits) - 1;
            for (int i = 0; i < d; i++) part[i] = (byte)((u[i] >> shift) & mask);
            PackedCodeDot.Pack(part, bits, code.Slice(offset, bytes));
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("rq codes assume a little-endian CPU");
        BinaryPrimitives.WriteSingleLittleEndian(code[_packedBytes..], norm);
        BinaryPrimitives.WriteSingleLittleEndian(code[(_packedBytes + 4)..], (float)ip);
        if (Bits > 1) BinaryPrimitives.WriteSingleLittleEndian(code[(_packedBytes + 8)..], (float)normY);
    }

    /// <summary>Unpacks the grid values y = u − (2^B − 1)/2 of a code into <paramref name="y"/> (rotated space).</summary>
    internal void GridValues(ReadOnlySpan<byte> code, Span<float> y)
    {
        int d = Dimension;
        Span<byte> part = d <= 4096 ? stackalloc byte[d] : new byte[d];
        y[..d].Clear();
        foreach (var (bits, shift, offset, bytes) in _parts)
        {
            PackedCodeDot.Unpack(code.Slice(offset, bytes), bits, part);
            for (int i = 0; i < d; i++) y[i] += part[i] << shift;
        }
        float m = ((1 << Bits) - 1) * 0.5f;
        for (int i = 0; i < d; i++) y[i] -= m;
    }

    /// <summary>The per-vector factors of a code: ‖r‖, ⟨y, o⟩, ‖y‖.</summary>
    internal (float NormR, float IpYO, float NormY) Factors(ReadOnlySpan<byte> code)
    {
        float normR = BinaryPrimitives.ReadSingleLittleEndian(code[_packedBytes..]);
        float ip = BinaryPrimitives.ReadSingleLittleEndian(code[(_packedBytes + 4)..]);
        float normY = Bits > 1 ? BinaryPrimitives.ReadSingleLittleEndian(code[(_packedBytes + 8)..]) : MathF.Sqrt(Dimension) * 0.5f;
        return (normR, ip, normY);
    }

    /// <summary>
    /// The rotated residual a code stands for: ‖r‖·(⟨y, o⟩/‖y‖²)·y, the component of ‖r‖·o along y (the best linear
    /// reconstruction from the code).
    /// </summary>
    internal void RotatedResidual(ReadOnlySpan<byte> code, Span<float> rotated)
    {
        GridValues(code, rotated);
        var (normR, ip, normY) = Factors(code);
        float s = normR * ip / (normY * normY);
        for (int i = 0; i < Dimension; i++) rotated[i] *= s;
    }

    /// <inheritdoc />
    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        int d = Dimension;
        Span<float> rotated = d <= 2048 ? stackalloc float[d] : new float[d];
        RotatedResidual(code, rotated);
        Unrotate(rotated, vector);
        for (int i = 0; i < d; i++) vector[i] += _center[i];
    }

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new RotationScorer(this, kind);

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write((byte)Bits);
        writer.Write(Dimension);
        foreach (var c in _center) writer.Write(c);
        foreach (var v in _rotation) writer.Write(v);
    }

    internal static RotationQuantizer ReadParameters(BinaryReader reader)
    {
        int bits = reader.ReadByte();
        if (bits is < 1 or > 8) throw new InvalidDataException($"rq: bad bit count {bits}");
        int d = reader.ReadInt32();
        if (d is <= 0 or > MaxDimension) throw new InvalidDataException($"rq: bad dimension {d}");
        var center = new float[d];
        for (int i = 0; i < d; i++) center[i] = reader.ReadSingle();
        var rotation = new float[d * d];
        for (int i = 0; i < rotation.Length; i++) rotation[i] = reader.ReadSingle();
        return new RotationQuantizer(bits, center, rotation);
    }
}
