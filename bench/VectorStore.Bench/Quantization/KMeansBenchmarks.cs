using BenchmarkDotNet.Attributes;
using VectorStore.Clustering;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// k-means training time for 256 centroids on 50,000 × 384 (the text set's base vectors when
/// <c>../shared/data</c> is present, else seeded synthetic embeddings of the same shape), on one core and on all
/// cores. Each invocation is one full training (25 Lloyd iterations at most), so there is no warm-up and few
/// iterations. Run together with the scan suite:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*Quantization*'</c>
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 0, iterationCount: 3, invocationCount: 1)]
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

    [Benchmark(Baseline = true)]
    public KMeansResult Train256OneCore() => KMeans.Train(_data, 256, new TrainingContext { Seed = 1, Threads = 1 });

    [Benchmark]
    public KMeansResult Train256AllCores() => KMeans.Train(_data, 256, new TrainingContext { Seed = 1, Threads = 0 });
}
