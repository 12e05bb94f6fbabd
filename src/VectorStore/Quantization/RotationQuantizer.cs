using System.Buffers.Binary;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// Rotation-based multi-bit codes (<c>rq:B</c>, B = 1 … 8 bits per dimension), chosen as in extended RaBitQ (Gao et al.,
/// SIGMOD 2025): a seeded random rotation of the centred, normalised vector, then the B-bit grid point with the largest
/// cosine to it, plus per-vector factors that make the inner-product estimate unbiased and give it an error bound.
/// </summary>
/// <remarks>
/// <para>Centroids: r is taken from the vector's nearest of C k-means centroids c_j (<see cref="CentroidCount"/>;
/// C = 1 is the training mean). The estimator's error scales with ‖r‖·‖q − c_j‖, so smaller residuals buy accuracy
/// that more bits would otherwise pay for: at 128 dimensions (SIFT), where the error per bit is 1.7× the text set's,
/// 256 centroids lift rq:2 from 0.774 to 0.840 recall@10 and rq:4 from 0.928 to 0.951, for 5 bytes per code
/// (t = ⟨y, P(c_j − c)⟩ and j) and C·D dot products per query, computed for the centroids a query meets. This is
/// what IVF-RaBitQ does with its lists, kept inside the codec so that every index gets it.</para>
/// <para>Encoding: r = x − c_j, o = P·r/‖r‖ (P a random orthogonal matrix). The grid is
/// y ∈ {−(2^B−1)/2, …, (2^B−1)/2}^D in steps of 1 (stored as u = y + (2^B−1)/2 ∈ 0 … 2^B−1): the sign of y_i is the sign
/// of o_i, and the magnitudes are ⌊t·|o_i|⌋ + ½ (capped) for the rescale t that maximises ⟨y, o⟩/‖y‖, found by sweeping t
/// over the points where a coordinate steps up (<see cref="ChooseCode"/>). That is not plain rounding: plain rounding of
/// a fixed scale wastes levels on the few large coordinates of a rotated vector.</para>
/// <para>Estimate: for a rotated query q', ⟨o, q'⟩ ≈ ⟨y, q'⟩/⟨y, o⟩, unbiased over the random rotation; its error is
/// ‖q'‖·√(1 − cos²)/cos/√(D − 1) per standard deviation, cos = ⟨y, o⟩/‖y‖ (RaBitQ's bound). Then
/// ‖x − q‖² ≈ ‖r‖² + ‖q − c_j‖² − 2‖r‖·⟨o, P(q − c_j)⟩, with ⟨y, P(q − c_j)⟩ = ⟨y, P(q − c)⟩ − t, and
/// ⟨x, q⟩ ≈ ⟨c_j, q⟩ + ‖r‖·⟨o, Pq⟩ (cosine = inner product of normalised vectors). <see cref="RotationScorer"/> does the scoring with an int8 query and integer kernels.</para>
/// <para>Rotation: a dense Haar-random D×D matrix, not a fast Hadamard transform. A Hadamard transform needs a power of
/// two: 384-d text embeddings would be padded to 512, costing 33 % more code bytes per vector for good, or mixed by
/// overlapping transforms whose randomness is only approximate. The speed argument for Hadamard is weak here:
/// <c>RotationCostBenchmarks</c> measured the dense 384-d rotation at 12.4 µs and three rounds of sign flips plus a
/// 512-point Walsh–Hadamard transform at 11.7 µs (scalar; SIMD would be a few times faster). Either is a per-query and
/// per-encode cost, about what scoring 500 codes costs, and the dense matrix is the rotation RaBitQ's unbiasedness and
/// error bound are proved for. Its D² floats (590 KB at 384-d) are the price; like <c>bin</c>, it is refused above
/// 4,096 dimensions (compose with <c>pca:D+rq:B</c>).</para>
/// <para>Code layout: the B bits of u split into parts of 1, 2, 4 or 8 bits (<see cref="Parts"/>), each part packed by
/// <see cref="PackedCodeDot.Pack"/>, lowest bits first; then f32 ‖r‖, f32 ⟨y, o⟩, for B &gt; 1 f32 ‖y‖ (for B = 1,
/// ‖y‖ = √D/2), and with C &gt; 1 f32 t and the centroid number (u8, or u16 above 256). Immutable and thread-safe.</para>
/// </remarks>
public sealed class RotationQuantizer : VectorCodec
{
    /// <summary>Largest input dimension a dense rotation is drawn for.</summary>
    public const int MaxDimension = 4_096;

    /// <summary>Most centroids a code may refer to (its centroid number is a u16).</summary>
    public const int MaxCentroids = 4_096;

    // First byte of the parameters in format 2 (format 1 starts with B, 1 … 8).
    private const byte Format2Marker = 0xF2;

    private static readonly double[] s_tightStart = [0, 0.15, 0.20, 0.52, 0.59, 0.71, 0.75, 0.77];
    private readonly float[] _center;
    private readonly float[] _rotation;   // D × D row-major
    private readonly float[] _rotatedCenter;
    private readonly CentroidSet? _offsetSet;    // over _rotatedOffsets, null for the single centre
    private readonly float[] _rotatedOffsets;    // C × D: P·(c_j − center); zeros for the single centre
    private readonly (int Bits, int Shift, int Offset, int Bytes)[] _parts;
    private readonly int _packedBytes;
    private readonly int _factorBytes;

    /// <param name="bits">B.</param>
    /// <param name="center">The training mean.</param>
    /// <param name="rotation">P, D × D row-major.</param>
    /// <param name="rotatedOffsets">P·(c_j − center) for C ≥ 2 centroids (C × D), or null for the single centre. Only
    /// the rotated offsets are kept: encoding finds the nearest centroid in the rotated space, where distances are the
    /// same, so the centroids themselves are not needed.</param>
    internal RotationQuantizer(int bits, float[] center, float[] rotation, float[]? rotatedOffsets = null)
    {
        int d = center.Length;
        if (bits is < 1 or > 8) throw new InvalidDataException($"rq: bad bit count {bits}");
        if (rotation.Length != (long)d * d) throw new InvalidDataException("rq: rotation size mismatch");
        if (rotatedOffsets is not null && (rotatedOffsets.Length % d != 0 || rotatedOffsets.Length / d is < 2 or > MaxCentroids))
            throw new InvalidDataException("rq: centroid table size mismatch");
        Bits = bits;
        _center = center;
        _rotation = rotation;
        _rotatedCenter = new float[d];
        Rotate(center, _rotatedCenter);
        CentroidCount = rotatedOffsets is null ? 1 : rotatedOffsets.Length / d;
        _rotatedOffsets = rotatedOffsets ?? new float[d];
        if (rotatedOffsets is not null) _offsetSet = new CentroidSet(new VectorMatrix(rotatedOffsets, d));
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
        _factorBytes = CentroidFieldsAt + (CentroidCount > 1 ? 4 + CentroidIdBytes : 0);
        Blocks = RotationBlockLayout.For(d, bits, _packedBytes, CodeSize, CentroidCount > 1 ? CentroidIdBytes : 0);
    }

    /// <inheritdoc />
    /// <remarks>1-, 2- and 4-bit codes (<see cref="RotationBlockLayout"/>); other widths are stored one by one.</remarks>
    public override IBlockCodec? BlockLayout => Blocks;

    internal RotationBlockLayout? Blocks { get; }

    /// <summary>Bits per dimension (B).</summary>
    public int Bits { get; }

    /// <inheritdoc />
    public override string Spec => CentroidCount == 1 ? $"rq:{Bits}" : $"rq:{Bits},{CentroidCount}";

    /// <inheritdoc />
    public override string Kind => "rq";

    /// <inheritdoc />
    public override int Dimension => _center.Length;

    /// <summary>Bytes of packed grid codes per vector (without the factors).</summary>
    public int PackedBytes => _packedBytes;

    /// <summary>
    /// Centroids the residuals are taken from (C): 1 = the training mean only (<c>rq:B,1</c>, and every code of format
    /// 1); more = each vector's nearest k-means centroid, which shrinks the residual the code approximates.
    /// </summary>
    public int CentroidCount { get; }

    private int CentroidIdBytes => CentroidCount <= 256 ? 1 : 2;

    // Where t and the centroid number start among a code's factors: after ‖r‖, ⟨y, o⟩ and (B > 1) ‖y‖.
    private int CentroidFieldsAt => Bits == 1 ? 8 : 12;

    /// <inheritdoc />
    public override int CodeSize => _packedBytes + _factorBytes;

    /// <inheritdoc />
    public override long ParameterBytes =>
        (2L * _center.Length + _rotation.Length + (_offsetSet is null ? 0 : _rotatedOffsets.Length + CentroidCount)) * sizeof(float);

    /// <summary>
    /// The centroid count of <c>rq:B</c> without one, for <paramref name="trainingVectors"/> training vectors: one per
    /// 39 (k-means' recommended minimum, <see cref="KMeansOptions.MinPointsPerCentroid"/>), 1 … 256 (so the centroid
    /// number is one byte). More centroids, smaller residuals: on SIFT rq:2 goes 0.774 → 0.840 recall@10 from 1 to 256.
    /// </summary>
    public static int DefaultCentroids(int trainingVectors) => Math.Clamp(trainingVectors / 39, 1, 256);

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

    /// <summary>P·(c_j − center) for every centroid j, row after row.</summary>
    internal ReadOnlySpan<float> RotatedOffsets => _rotatedOffsets;

    /// <summary>‖c_j − center‖² (0 for the single centre).</summary>
    internal float OffsetNormSquared(int j) => _offsetSet?.Norm(j) ?? 0f;

    /// <summary>Trains the centre on <paramref name="sample"/> and draws a seeded random rotation (one centroid: the mean).</summary>
    public static RotationQuantizer Train(VectorMatrix sample, int bits, int seed) => Train(sample, bits, seed, 1, null);

    /// <summary>
    /// Trains the centre (and, for <paramref name="centroids"/> &gt; 1, k-means centroids) on <paramref name="sample"/>
    /// and draws a seeded random rotation.
    /// </summary>
    public static RotationQuantizer Train(VectorMatrix sample, int bits, int seed, int centroids, TrainingContext? context)
    {
        Parts(bits);
        if (sample.Count == 0) throw new InvalidArgumentException("rq needs at least one training vector");
        if (centroids is < 1 or > MaxCentroids) throw new InvalidArgumentException($"rq takes 1 to {MaxCentroids} centroids, got {centroids}");
        int d = sample.Dimension;
        if (d > MaxDimension) throw new InvalidArgumentException($"rq: a random rotation of {d} dimensions is too large; compose with pca:D+rq:{bits}");
        var mean = new double[d];
        for (int r = 0; r < sample.Count; r++)
        {
            var row = sample.Row(r);
            for (int i = 0; i < d; i++) mean[i] += row[i];
        }
        var center = mean.Select(m => (float)(m / sample.Count)).ToArray();
        var rotation = BinaryQuantizer.RandomRotation(d, seed);
        centroids = Math.Min(centroids, sample.Count);
        if (centroids == 1) return new RotationQuantizer(bits, center, rotation);
        context ??= new TrainingContext { Seed = seed };
        var km = KMeans.Train(sample, centroids, context, new KMeansOptions { Stage = $"rq:{bits},{centroids}", MinPointsPerCentroid = 0 });
        var offsets = new float[centroids * d];
        var diff = new float[d];
        for (int j = 0; j < centroids; j++)
        {
            var c = km.Centroids.Row(j);
            for (int i = 0; i < d; i++) diff[i] = c[i] - center[i];
            Rotate(rotation, diff, offsets.AsSpan(j * d, d));
        }
        return new RotationQuantizer(bits, center, rotation, offsets);
    }

    /// <summary>output = P·input.</summary>
    internal void Rotate(ReadOnlySpan<float> input, Span<float> output) => Rotate(_rotation, input[..Dimension], output);

    // Four rows per pass share each load of the input; bit-identical to one DotProduct per row, so codes do not change.
    private static void Rotate(float[] rotation, ReadOnlySpan<float> input, Span<float> output) =>
        DotProductBatch.Compute(input, rotation, input.Length, output);

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
        // Rotate x − center once; the nearest centroid is found in the rotated space (same distances), where the
        // residual P(x − c_j) is that minus the centroid's rotated offset.
        for (int i = 0; i < d; i++) r[i] = vector[i] - _center[i];
        Rotate(r, o);
        int j = 0;
        if (_offsetSet is not null)
        {
            j = _offsetSet.Nearest(o, out _);
            var off = _rotatedOffsets.AsSpan(j * d, d);
            for (int i = 0; i < d; i++) o[i] -= off[i];
        }
        float norm = MathF.Sqrt(DotProduct.Compute(o, o));
        if (norm > 0)
        {
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
        if (CentroidCount > 1)
        {
            // t = ⟨y, P(c_j − center)⟩: what the query side subtracts to measure from c_j instead of the centre.
            var offset = _rotatedOffsets.AsSpan(j * d, d);
            double t = 0, m = ((1 << Bits) - 1) * 0.5;
            for (int i = 0; i < d; i++) t += (u[i] - m) * offset[i];
            int at = _packedBytes + CentroidFieldsAt;
            BinaryPrimitives.WriteSingleLittleEndian(code[at..], (float)t);
            if (CentroidIdBytes == 1) code[at + 4] = (byte)j;
            else BinaryPrimitives.WriteUInt16LittleEndian(code[(at + 4)..], (ushort)j);
        }
    }

    /// <summary>The centroid number j of a code and t = ⟨y, P(c_j − center)⟩ (0 and 0 for the single centre).</summary>
    internal (int Centroid, float Shift) CentroidOf(ReadOnlySpan<byte> code) => CentroidOfFactors(code[_packedBytes..]);

    /// <summary><see cref="CentroidOf"/> from the factor bytes of a code (what follows its packed grid values).</summary>
    internal (int Centroid, float Shift) CentroidOfFactors(ReadOnlySpan<byte> factors)
    {
        if (CentroidCount == 1) return (0, 0f);
        int at = CentroidFieldsAt;
        int j = CentroidIdBytes == 1 ? factors[at + 4] : BinaryPrimitives.ReadUInt16LittleEndian(factors[(at + 4)..]);
        return (j, BinaryPrimitives.ReadSingleLittleEndian(factors[at..]));
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
        int j = CentroidOf(code).Centroid;
        if (j >= CentroidCount) throw new InvalidDataException($"rq: code refers to centroid {j} of {CentroidCount}");
        var off = _rotatedOffsets.AsSpan(j * d, d);
        for (int i = 0; i < d; i++) rotated[i] += off[i];
        Unrotate(rotated, vector);
        for (int i = 0; i < d; i++) vector[i] += _center[i];
    }

    /// <inheritdoc />
    public override CodeScorer CreateScorer(DistanceKind kind) => new RotationScorer(this, kind);

    /// <inheritdoc />
    /// <remarks>
    /// Format 1 (a single centre) keeps its old layout, so a snapshot written before centroids existed and one
    /// written since with <c>rq:B,1</c> are the same bytes; format 2 (data-format.md §2.4) adds the centroids.
    /// </remarks>
    public override void WriteParameters(BinaryWriter writer)
    {
        if (_offsetSet is not null)
        {
            writer.Write(Format2Marker);
            writer.Write((byte)Bits);
            writer.Write(Dimension);
            writer.Write(CentroidCount);
        }
        else
        {
            writer.Write((byte)Bits);
            writer.Write(Dimension);
        }
        foreach (var c in _center) writer.Write(c);
        foreach (var v in _rotation) writer.Write(v);
        if (_offsetSet is not null) foreach (var c in _rotatedOffsets) writer.Write(c);
    }

    internal static RotationQuantizer ReadParameters(BinaryReader reader)
    {
        int first = reader.ReadByte();
        bool format2 = first == Format2Marker;
        int bits = format2 ? reader.ReadByte() : first;
        if (bits is < 1 or > 8) throw new InvalidDataException($"rq: bad bit count {bits}");
        int d = reader.ReadInt32();
        if (d is <= 0 or > MaxDimension) throw new InvalidDataException($"rq: bad dimension {d}");
        int count = format2 ? reader.ReadInt32() : 1;
        if (format2 && count is < 2 or > MaxCentroids) throw new InvalidDataException($"rq: bad centroid count {count}");
        var center = ReadFloats(reader, d);
        var rotation = ReadFloats(reader, d * d);
        var offsets = format2 ? ReadFloats(reader, count * d) : null;
        return new RotationQuantizer(bits, center, rotation, offsets);
    }

    private static float[] ReadFloats(BinaryReader reader, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = reader.ReadSingle();
        return values;
    }
}
