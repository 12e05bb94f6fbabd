using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Ivf;

/// <summary>
/// Registers <c>ivf:NLIST[,NPROBE][,residual][,spill]</c>: trains NLIST coarse centroids with k-means on the sample
/// (unit-length centroids when the sample lies on the unit sphere), then the codec on the sample itself or, with
/// <c>residual</c>, on its residuals to the nearest centroid. <c>spill</c> stores every entry in a second list too
/// (see <see cref="IvfIndex.SpillLambda"/>). Stateless and thread-safe.
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
    public void Validate(IndexSpec spec) => Parse(spec);

    private const string Usage = "ivf:NLIST[,NPROBE][,residual][,spill]";

    private static (int NList, int NProbe, bool Residual, bool Spill) Parse(IndexSpec spec)
    {
        spec.RequireArgumentCount(1, 4, Usage);
        int nlist = spec.IntArgument(0, "NLIST (the number of lists)", 1, MaxLists);
        bool residual = false, spill = false;
        int nprobe = IvfIndex.DefaultNProbeFor(nlist);
        for (int i = 1; i < spec.Arguments.Count; i++)
        {
            if (spec.Arguments[i] == "residual" && !residual) residual = true;
            else if (spec.Arguments[i] == "spill" && !spill) spill = true;
            else if (i == 1) nprobe = spec.IntArgument(1, $"NPROBE (lists searched, at most NLIST={nlist})", 1, nlist);
            else throw new InvalidArgumentException($"index '{spec}': expected {Usage}, got '{spec.Arguments[i]}'");
        }
        if (spill && nlist < 2) throw new InvalidArgumentException($"index '{spec}': spill needs NLIST in 2..{MaxLists}, got {nlist}");
        return (nlist, nprobe, residual, spill);
    }

    /// <inheritdoc />
    public int TrainingVectorsNeeded(IndexSpec spec) => Parse(spec).NList;

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        var (nlist, nprobe, wantResidual, wantSpill) = Parse(spec);
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

        // Raw codes by default: on the shared text set residual codes lost recall with pq:96x4 (0.936 vs 0.950 at
        // nprobe 48/256) and pq:48, tied with sq8, and on SIFT (L2) gained only ~0.004 recall@10 while the per-list
        // query set-up made searches 2–4× slower (notes/issue-5.md). `none` never benefits.
        bool residual = wantResidual && !(compression.Stages.Count == 1 && compression.Quantizer.Name == "none");
        bool spill = wantSpill && nlist >= 2;
        var assign = new int[sample.Count];
        var second = spill ? new int[sample.Count] : null;
        var training = residual ? new VectorMatrix(sample.Count, dimension) : sample;
        Parallel.For(0, sample.Count, context.ParallelOptions, i =>
        {
            var x = sample.Row(i);
            int l = coarse.Nearest(x, out _);
            assign[i] = l;
            if (second is not null) second[i] = IvfIndex.SecondList(coarse, x, l, new float[2 * nlist]);
            if (!residual) return;
            var r = training[i];
            var c = centroids.AsSpan(l * dimension, dimension);
            for (int d = 0; d < dimension; d++) r[d] = x[d] - c[d];
        });
        var sizes = new long[nlist];
        foreach (int l in assign) sizes[l]++;
        if (second is not null) foreach (int l in second) sizes[l]++;
        double sumSq = sizes.Sum(s => (double)s * s);
        double entries = sample.Count * (spill ? 2.0 : 1.0);
        double baseline = nlist * sumSq / (entries * entries);

        var codec = CodecRegistry.Train(compression, training, kind, context);
        return new IvfIndex(codec, kind, centroids, residual, spherical, nprobe, baseline, spill);
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
