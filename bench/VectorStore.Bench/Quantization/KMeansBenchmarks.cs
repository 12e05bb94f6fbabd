using BenchmarkDotNet.Attributes;
using VectorStore.Clustering;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// k-means training time for 256 centroids on 50,000 × 384 (the text set's base vectors when
/// <c>../shared/data</c> is present, else seeded synthetic embeddings of the same shape), on one core and on all
/// One invocation is one full training (25 Lloyd iterations at most), so the class fixes one invocation per
/// iteration and no warm-up (mutators: the iteration count comes from the job). Run together with the scan suite:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*Quantization*' --job short</c>
/// </summary>
[WarmupCount(0)]
[InvocationCount(1, 1)]
public class KMeansBenchmarks
{
    private VectorMatrix _data = new(1, 1);

    [GlobalSetup]
    public void Setup()
    {
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        _data = dir is null
            ? SyntheticData.Clustered(50_000, 384, seed: 1, normalize: true)
            : VectorFiles.ReadVectors(Path.Combine(dir, "debdesc-minilm384-public_base.fvecs"), maxRows: 50_000);
    }

    [Benchmark]
    public KMeansResult Train256OneCore() => KMeans.Train(_data, 256, new TrainingContext { Seed = 1, Threads = 1 });
}
