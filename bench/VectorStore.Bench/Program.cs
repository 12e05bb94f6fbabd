using BenchmarkDotNet.Running;

// Run all suites: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*'
if (args.Length > 0 && args[0] == "hnsw-sweep")
{
    VectorStore.Bench.Indexing.HnswSweep.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "hnsw-vs-usearch")
{
    VectorStore.Bench.Indexing.HnswVsUSearch.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
