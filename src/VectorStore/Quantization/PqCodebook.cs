using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// The trained part of product quantization: the input split into <see cref="SubQuantizers"/> contiguous sub-spaces,
/// each with its own <see cref="CentroidsPerSubspace"/> centroids (256 for 8-bit codes, 16 for 4-bit). When the
/// dimension is not a multiple of M, the first <c>dimension mod M</c> sub-spaces get one extra dimension.
/// Immutable after construction and thread-safe.
/// </summary>
public sealed class PqCodebook
{
    private readonly float[][] _centroids; // per sub-space: ksub × subDim, centroid-major
    private readonly CentroidSet[] _sets;
    private readonly int[] _offsets; // M + 1 entries
    private readonly float[] _byDimension; // dimension × ksub: the centroids transposed for the table kernels

    /// <summary>Wraps trained centroids: one ksub × subDim matrix per sub-space.</summary>
    public PqCodebook(int dimension, int subQuantizers, int bits, float[][] centroids)
    {
        ValidateShape(dimension, subQuantizers, bits);
        Dimension = dimension;
        SubQuantizers = subQuantizers;
        Bits = bits;
        CentroidsPerSubspace = 1 << bits;
        _offsets = Offsets(dimension, subQuantizers);
        if (centroids.Length != subQuantizers) throw new InvalidArgumentException($"pq: {centroids.Length} codebooks for {subQuantizers} sub-spaces");
        _centroids = centroids;
        _sets = new CentroidSet[subQuantizers];
        for (int m = 0; m < subQuantizers; m++)
        {
            int sd = SubDimension(m);
            if (centroids[m].Length != CentroidsPerSubspace * sd)
                throw new InvalidArgumentException($"pq: codebook {m} has {centroids[m].Length} values, expected {CentroidsPerSubspace * sd}");
            _sets[m] = new CentroidSet(new VectorMatrix(centroids[m], sd));
        }
        _byDimension = Transpose(centroids, _offsets, CentroidsPerSubspace);
    }

    /// <summary>
    /// Dimension-major copy of the centroids (layout in <see cref="PqTableL2"/>): row d holds coordinate d of every
    /// centroid of d's sub-space, so the table kernels read one contiguous row per input dimension.
    /// </summary>
    private static float[] Transpose(float[][] centroids, int[] offsets, int ksub)
    {
        var t = new float[offsets[^1] * ksub];
        for (int m = 0; m < centroids.Length; m++)
        {
            int off = offsets[m], sd = offsets[m + 1] - off;
            for (int j = 0; j < ksub; j++)
                for (int d = 0; d < sd; d++)
                    t[(off + d) * ksub + j] = centroids[m][j * sd + d];
        }
        return t;
    }

    /// <summary>Input dimension.</summary>
    public int Dimension { get; }

    /// <summary>Number of sub-quantizers M.</summary>
    public int SubQuantizers { get; }

    /// <summary>Bits per sub-quantizer index: 8 or 4.</summary>
    public int Bits { get; }

    /// <summary>Centroids per sub-space (2^bits).</summary>
    public int CentroidsPerSubspace { get; }

    /// <summary>Bytes the centroids occupy in memory: the trained centroids and the dimension-major copy the table kernels read.</summary>
    public long ParameterBytes => 2L * Dimension * CentroidsPerSubspace * sizeof(float);

    /// <summary>First input dimension of sub-space <paramref name="m"/>.</summary>
    public int SubOffset(int m) => _offsets[m];

    /// <summary>Dimensions of sub-space <paramref name="m"/>.</summary>
    public int SubDimension(int m) => _offsets[m + 1] - _offsets[m];

    /// <summary>The centroids of sub-space <paramref name="m"/> (ksub × subDim, centroid-major).</summary>
    public ReadOnlySpan<float> Centroids(int m) => _centroids[m];

    /// <summary>Checks M and bits against the dimension; throws <see cref="InvalidArgumentException"/>.</summary>
    public static void ValidateShape(int dimension, int subQuantizers, int bits)
    {
        if (bits is not (4 or 8)) throw new InvalidArgumentException($"pq: bits per sub-quantizer must be 4 or 8, got {bits}");
        if (subQuantizers <= 0 || subQuantizers > dimension)
            throw new InvalidArgumentException($"pq: M must be in 1..{dimension} (the dimension), got {subQuantizers}");
        if (bits == 4 && subQuantizers % 2 != 0)
            throw new InvalidArgumentException($"pq:{subQuantizers}x4: M must be even (two 4-bit indices per byte)");
        if (bits == 4 && subQuantizers > PqFastScan.MaxSubQuantizers)
            throw new InvalidArgumentException($"pq:{subQuantizers}x4: M must be at most {PqFastScan.MaxSubQuantizers} (16-bit accumulators)");
    }

    private static int[] Offsets(int dimension, int m)
    {
        var o = new int[m + 1];
        int baseDim = dimension / m, extra = dimension % m;
        for (int i = 0; i < m; i++) o[i + 1] = o[i] + baseDim + (i < extra ? 1 : 0);
        return o;
    }

    /// <summary>
    /// Trains one k-means per sub-space on <paramref name="sample"/>. <paramref name="warmStart"/> (a codebook of the
    /// same shape) seeds the centroids instead of k-means++ (OPQ re-trains repeatedly).
    /// </summary>
    public static PqCodebook Train(VectorMatrix sample, int subQuantizers, int bits, TrainingContext context,
        int iterations = 25, PqCodebook? warmStart = null, string stage = "pq")
    {
        int dim = sample.Dimension;
        ValidateShape(dim, subQuantizers, bits);
        int ksub = 1 << bits;
        if (sample.Count < ksub)
            throw new InvalidArgumentException($"{stage}: {sample.Count} training vectors for {ksub} centroids per sub-space; need at least {ksub}");
        var offsets = Offsets(dim, subQuantizers);
        var centroids = new float[subQuantizers][];
        for (int m = 0; m < subQuantizers; m++)
        {
            int off = offsets[m], sd = offsets[m + 1] - off;
            var sub = new VectorMatrix(sample.Count, sd);
            for (int i = 0; i < sample.Count; i++) sample.Row(i).Slice(off, sd).CopyTo(sub[i]);
            // One warning for the whole codebook (every sub-space sees the same point count), progress per sub-space.
            var ctx = new TrainingContext { Seed = context.Seed + 7919 * m, Threads = context.Threads, Warn = m == 0 ? context.Warn : null };
            var options = new KMeansOptions
            {
                Iterations = iterations,
                Stage = $"{stage} sub-space {m}",
                InitialCentroids = warmStart is null ? null : new VectorMatrix(warmStart._centroids[m].ToArray(), sd),
            };
            centroids[m] = KMeans.Train(sub, ksub, ctx, options).Centroids.Data;
            context.Progress?.Report((stage, (m + 1.0) / subQuantizers));
        }
        return new PqCodebook(dim, subQuantizers, bits, centroids);
    }

    /// <summary>The nearest centroid index per sub-space (M values, each &lt; 2^bits).</summary>
    public void Assign(ReadOnlySpan<float> vector, Span<byte> indices)
    {
        if (vector.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {vector.Length}");
        for (int m = 0; m < SubQuantizers; m++)
            indices[m] = (byte)_sets[m].Nearest(vector.Slice(_offsets[m], SubDimension(m)), out _);
    }

    /// <summary>Concatenates the centroids named by <paramref name="indices"/>.</summary>
    public void Reconstruct(ReadOnlySpan<byte> indices, Span<float> vector)
    {
        for (int m = 0; m < SubQuantizers; m++)
        {
            int sd = SubDimension(m);
            _centroids[m].AsSpan(indices[m] * sd, sd).CopyTo(vector.Slice(_offsets[m], sd));
        }
    }

    /// <summary>
    /// The asymmetric-distance table for <paramref name="query"/>: <c>table[m·ksub + j]</c> is the distance
    /// contribution of centroid j of sub-space m (squared L2 of the sub-vectors, or minus their dot product), so a
    /// code's distance is the sum of M table entries.
    /// </summary>
    public void ComputeTable(ReadOnlySpan<float> query, DistanceKind kind, Span<float> table)
    {
        if (query.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {query.Length}");
        if (kind == DistanceKind.L2) PqTableL2.Compute(query, _byDimension, _offsets, CentroidsPerSubspace, table);
        else PqTableDot.Compute(query, _byDimension, _offsets, CentroidsPerSubspace, table);
    }

    /// <summary>Writes <c>i32 dimension, i32 M, u8 bits</c>, then every sub-space's centroids as f32.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(SubQuantizers);
        writer.Write((byte)Bits);
        foreach (var c in _centroids)
            foreach (var v in c) writer.Write(v);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; malformed input gives <see cref="InvalidDataException"/>.</summary>
    public static PqCodebook Read(BinaryReader reader)
    {
        int dim = reader.ReadInt32();
        int m = reader.ReadInt32();
        int bits = reader.ReadByte();
        if (dim is <= 0 or > 1 << 20 || m <= 0 || m > dim || bits is not (4 or 8))
            throw new InvalidDataException($"pq: bad codebook header (dimension {dim}, M {m}, bits {bits})");
        var offsets = Offsets(dim, m);
        var centroids = new float[m][];
        int ksub = 1 << bits;
        for (int s = 0; s < m; s++)
        {
            var c = new float[ksub * (offsets[s + 1] - offsets[s])];
            for (int i = 0; i < c.Length; i++) c[i] = reader.ReadSingle();
            centroids[s] = c;
        }
        try
        {
            return new PqCodebook(dim, m, bits, centroids);
        }
        catch (InvalidArgumentException e)
        {
            throw new InvalidDataException(e.Message);
        }
    }
}
