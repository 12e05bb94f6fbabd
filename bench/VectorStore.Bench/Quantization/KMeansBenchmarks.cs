using BenchmarkDotNet.Attributes;
using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// k-means training time for 256 centroids on 50,000 × 384 (the text set's base vectors when
/// <c>../shared/data</c> is present, else seeded synthetic embeddings of the same shape), on one core and on all
/// One invocation is one full training (25 Lloyd iterations at most), so the class fixes one invocation per
/// iteration and no warm-up (mutators: the iteration count comes from the job). Run together with the scan suite:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*PqScanBenchmarks*' '*KMeansBenchmarks*' --job short</c>
/// </summary>
[WarmupCount(0)]
[InvocationCount(1, 1)]
public class KMeansBenchmarks
{
    private VectorMatrix _data = new(1, 1);

    [GlobalSetup]
    public void Setup()
    {
        _data = BenchData.TextBaseOrSynthetic();
    }

    [Benchmark]
    public KMeansResult Train256OneCore() => KMeans.Train(_data, 256, new TrainingContext { Seed = 1, Threads = 1 });
}
