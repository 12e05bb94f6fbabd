using BenchmarkDotNet.Running;

// Run all suites: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
