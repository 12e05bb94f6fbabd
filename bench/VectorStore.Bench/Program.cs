using BenchmarkDotNet.Running;

// Run all suites: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*'
// Bounded TCP load test (not a BenchmarkDotNet suite): -- protocol-load [--threads T] [--rounds R] [--batch B]
if (args.Length > 0 && args[0] == "protocol-load") return await VectorStore.Bench.Protocol.ProtocolLoadTest.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
