using BenchmarkDotNet.Running;

// Run all suites: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*'
// Bounded TCP load test (not a BenchmarkDotNet suite): -- protocol-load [--threads T] [--rounds R] [--batch B]
if (args.Length > 0 && args[0] == "protocol-load") return await VectorStore.Bench.Protocol.ProtocolLoadTest.RunAsync(args[1..]);
// Scale-out with separate silo processes (not a BenchmarkDotNet suite): -- cluster-scale [--count N] [--queries Q] [--dry]
if (args.Length > 0 && args[0] == "cluster-scale") return await VectorStore.Bench.Cluster.ClusterScale.RunAsync(args[1..]);
// HNSW sweeps and the equal-recall USearch comparison (not BenchmarkDotNet suites): -- hnsw-sweep DIR … | -- hnsw-vs-usearch DIR …
if (args.Length > 0 && args[0] == "hnsw-sweep")
{
    VectorStore.Bench.Indexing.HnswSweep.Run(args[1..]);
    return 0;
}
if (args.Length > 0 && args[0] == "hnsw-vs-usearch")
{
    VectorStore.Bench.Indexing.HnswVsUSearch.Run(args[1..]);
    return 0;
}
// VectorStore against native FAISS and hnswlib on one TEXMEX set, best QPS at recall 0.90/0.95/0.99 (issue 21): -- native-peers DIR --native BENCH […]
if (args.Length > 0 && args[0] == "native-peers") return VectorStore.Bench.Indexing.NativePeers.Run(args[1..]);
// The 4-bit fast-scan kernel against FAISS's accumulate_to_mem, alternating in one run (issue 21): -- fastscan-kernel --native bench/native/bin/kernel […]
if (args.Length > 0 && args[0] == "fastscan-kernel") return VectorStore.Bench.Quantization.FastScanKernelVsFaiss.Run(args[1..]);
// Re-rank cost inside the real search flow (not a BenchmarkDotNet suite): -- rerank-flow [INDEX] [NPROBE] [REPS]
if (args.Length > 0 && args[0] == "rerank-flow")
{
    VectorStore.Bench.Collections.RerankFlow.Run(args[1..]);
    return 0;
}
// Scale and memory under a cgroup cap (not a BenchmarkDotNet suite): -- scale-memory [--count N] [--cap-mb M] …
if (args.Length > 0 && args[0] == "scale-memory") return VectorStore.Bench.Memory.ScaleMemory.Run(args[1..]);
if (args.Length > 0 && args[0] == "scale-memory-child") return VectorStore.Bench.Memory.ScaleMemory.Child(args[1..]);
// Neighbour statistics of generated data beside the text set's (calibrates the generator): -- synthetic-stats […]
if (args.Length > 0 && args[0] == "synthetic-stats") return VectorStore.Bench.Memory.SyntheticCalibration.Run(args[1..]);
// Filtered search at 0.1–50 % selectivity against exact filtered truth (not a BenchmarkDotNet suite): -- filtered-search [--dry]
if (args.Length > 0 && args[0] == "filtered-search") return VectorStore.Bench.Collections.FilteredSearch.Run(args[1..]);
// The drift scenario of issue 16: first firing of each sensor vs recall@10 while paragraphs stream into a synopsis-trained collection: -- drift-curve […]
if (args.Length > 0 && args[0] == "drift-curve") return VectorStore.Bench.Collections.DriftCurve.Run(args[1..]);
// Issue 16 end to end: paragraphs stream into a synopsis-trained collection under query load with the drift ladder on: -- lifecycle-drift […]
if (args.Length > 0 && args[0] == "lifecycle-drift") return VectorStore.Bench.Collections.LifecycleDrift.Run(args[1..]);
// Issue 16: search QPS with a 1 % shadow canary against none (interleaved rounds), and the canary's recall estimate vs offline truth: -- canary-overhead […]
if (args.Length > 0 && args[0] == "canary-overhead") return VectorStore.Bench.Collections.CanaryOverhead.Run(args[1..]);
// Steady-state checkpoint cost with index files reused vs rewritten every time (issue 13): -- checkpoint-cost […]
if (args.Length > 0 && args[0] == "checkpoint-cost") return VectorStore.Bench.Storage.CheckpointCost.Run(args[1..]);
// Write latency while a tuning runs and while pool tasks search, against the same run's idle writes (issue 21): -- write-latency […]
if (args.Length > 0 && args[0] == "write-latency") return VectorStore.Bench.Collections.WriteLatency.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
