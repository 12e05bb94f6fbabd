using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>
/// Registers <c>ivf:NLIST[,NPROBE]</c>: trains NLIST coarse centroids with k-means on the sample, then the codec on
/// the sample's residuals to their nearest centroid. Stateless and thread-safe.
/// </summary>
public sealed class IvfIndexFactory : IIndexFactory
{
    /// <summary>Largest NLIST accepted.</summary>
    public const int MaxLists = 1 << 16;

    /// <summary>k-means iterations for the coarse quantizer.</summary>
    public const int TrainingIterations = 20;

    /// <summary>At most this many sample vectors per list train the centroids (more adds time, not quality).</summary>
    public const int TrainingVectorsPerList = 256;

    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["ivf"];

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        if (spec.Arguments.Count is < 1 or > 2) throw new InvalidArgumentException($"index '{spec}': expected ivf:NLIST or ivf:NLIST,NPROBE");
        int nlist = spec.IntArgument(0, "the number of lists (ivf:NLIST)");
        if (nlist > MaxLists) throw new InvalidArgumentException($"index '{spec}': NLIST must be at most {MaxLists}, got {nlist}");
        int nprobe = spec.IntArgument(1, "nprobe (ivf:NLIST,NPROBE)", IvfIndex.DefaultNProbeFor(nlist));
        if (nprobe > nlist) throw new InvalidArgumentException($"index '{spec}': nprobe {nprobe} exceeds NLIST {nlist}");
        if (sample.Dimension != dimension) throw new InvalidVectorException($"expected dimension {dimension}, got {sample.Dimension}");
        if (sample.Count == 0) throw new InvalidArgumentException("ivf needs at least one training vector");
        if (sample.Count < nlist)
        {
            context.Warn?.Invoke($"ivf: {sample.Count} training vectors for {nlist} lists; using {sample.Count} lists");
            nlist = sample.Count;
            nprobe = Math.Min(nprobe, nlist);
        }
        var kmeans = KMeans.Train(sample, nlist, context, new KMeansOptions
        {
            Iterations = TrainingIterations, MaxPointsPerCentroid = TrainingVectorsPerList, Stage = "ivf",
        });
        var centroids = kmeans.Centroids.Data;
        bool spherical = kind == DistanceKind.NegativeDot && OnUnitSphere(sample);
        if (spherical) IvfIndex.NormalizeRows(centroids, dimension);
        var coarse = new CentroidSet(kmeans.Centroids);

        // `none` keeps exact float codes, so residuals would only add rounding; every lossy codec gains from them.
        bool residual = !(compression.Stages.Count == 1 && compression.Quantizer.Name == "none");
        var assign = new int[sample.Count];
        var training = residual ? new VectorMatrix(sample.Count, dimension) : sample;
        Parallel.For(0, sample.Count, context.ParallelOptions, i =>
        {
            var x = sample.Row(i);
            int l = coarse.Nearest(x, out _);
            assign[i] = l;
            if (!residual) return;
            var r = training[i];
            var c = centroids.AsSpan(l * dimension, dimension);
            for (int d = 0; d < dimension; d++) r[d] = x[d] - c[d];
        });
        var sizes = new long[nlist];
        foreach (int l in assign) sizes[l]++;
        double sumSq = sizes.Sum(s => (double)s * s);
        double baseline = nlist * sumSq / ((double)sample.Count * sample.Count);

        var codec = CodecRegistry.Train(compression, training, kind, context);
        return new IvfIndex(codec, kind, centroids, residual, spherical, nprobe, baseline);
    }

    private static bool OnUnitSphere(VectorMatrix sample)
    {
        for (int i = 0; i < sample.Count; i++)
        {
            var row = sample.Row(i);
            float n = Distance.DotProduct.Compute(row, row);
            if (MathF.Abs(n - 1f) > 1e-3f) return false;
        }
        return true;
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => IvfIndex.Read(reader);
}
