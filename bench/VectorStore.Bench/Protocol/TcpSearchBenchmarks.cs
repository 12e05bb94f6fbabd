using BenchmarkDotNet.Attributes;

namespace VectorStore.Bench.Protocol;

/// <summary>
/// Batched search throughput over TCP against in-process (the baseline) on the same data and threads. The Ratio
/// column is the acceptance number (issue 7 asks for TCP ≥ 0.8× in-process, i.e. Ratio ≤ 1.25 in time).
/// Run: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*TcpSearch*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class TcpSearchBenchmarks
{
    private ProtocolWorkload _w = null!;

    [Params(2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => _w = ProtocolWorkload.CreateAsync(Threads).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _w.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "in-process SearchBatch, 500 queries")]
    public int InProcess() => _w.InProcessBatch();

    [Benchmark(Description = "TCP SearchBatch, 500 queries in batches of 50")]
    public int Tcp() => _w.TcpBatchAsync(50).GetAwaiter().GetResult();
}
