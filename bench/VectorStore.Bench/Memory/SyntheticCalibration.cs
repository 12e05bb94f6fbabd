using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Ranking;

namespace VectorStore.Bench.Memory;

/// <summary>
/// Prints the neighbour statistics (<see cref="NeighbourStatistics"/>) of a generated set beside the shared text
/// set's, so the generator's parameters can be set to make synthetic data as hard as real embeddings:
/// <code>
/// dotnet …/VectorStore.Bench.dll synthetic-stats [--count 50000] [--dim 384] [--queries 500] [--clusters 256] [--rank 32]
///     [--center 1.0] [--noise 0.05] [--text ../shared/data/debdesc-minilm384-public/debdesc-minilm384-public]
/// </code>
/// </summary>
public static class SyntheticCalibration
{
    /// <summary>Entry point of <c>synthetic-stats</c>.</summary>
    public static int Run(string[] args)
    {
        var a = BenchArgs.Parse(args);
        int Int(string k, int d) => a.Int(k, d);
        double Dbl(string k, double d) => a.Double(k, d);
        int count = Int("count", 50_000), dim = Int("dim", 384), nq = Int("queries", 500);
        var shape = TextLikeShape.Default with
                {
                    Topics = Int("clusters", TextLikeShape.Default.Topics), SubTopics = Int("sub", TextLikeShape.Default.SubTopics),
                    Rank = Int("rank", TextLikeShape.Default.Rank), TopicScale = Dbl("center", TextLikeShape.Default.TopicScale),
                    SubTopicScale = Dbl("subscale", TextLikeShape.Default.SubTopicScale), Spread = Dbl("spread", TextLikeShape.Default.Spread),
                    Noise = Dbl("noise", TextLikeShape.Default.Noise),
                };
        var all = a.Has("text-like")
            ? SyntheticData.TextLike(count + nq, dim, Int("seed", 1), shape)
            : SyntheticData.Clustered(count + nq, dim, seed: Int("seed", 1), clusters: Int("clusters", 256), rank: Int("rank", 32), normalize: true, centerScale: Dbl("center", 1.0), noise: Dbl("noise", 0.05));
        var b = all.Slice(0, count);
        var q = all.Slice(count, nq);
        var truth = GroundTruth.Compute(b, q, 100, DistanceKind.NegativeDot);
        Console.WriteLine($"synthetic {count}x{dim}: {NeighbourStatistics.Measure(b, q, truth)}");
        if (a.TryGet("text", out var text) && File.Exists(text + "_base.fvecs"))
        {
            var tb = VectorFiles.ReadVectors(text + "_base.fvecs");
            var tq = VectorFiles.ReadVectors(text + "_query.fvecs");
            var tt = VectorFiles.ReadIvecs(text + "_groundtruth.ivecs");
            Console.WriteLine($"text set {tb.Count}x{tb.Dimension}: {NeighbourStatistics.Measure(tb, tq, tt)}");
        }
        if (a.TryGet("write", out var stem))
        {
            VectorFiles.WriteFvecs(stem + "_base.fvecs", b);
            VectorFiles.WriteFvecs(stem + "_query.fvecs", q);
            VectorFiles.WriteIvecs(stem + "_groundtruth.ivecs", truth);
        }
        return 0;
    }
}
