using VectorStore.Fuzz;

// Frame-parser fuzzing. One command: tools/VectorStore.Fuzz/fuzz.sh [seconds] (builds, instruments, runs).
//   run [--seconds N] [--execs N] [--seed S] [--crashes DIR] [--corpus DIR]  in-process mutational fuzzing
//   instrument DLL...                                                           SharpFuzz edge instrumentation
//   repro FILE...                                                               replays inputs
//   export-adversarial DIR                                                      writes the hand-made hostile inputs
//   afl | libfuzzer                                                             for external engines, when present
string mode = args.Length > 0 ? args[0] : "run";
string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
if (mode is "run" or "repro") MutationalFuzzer.EnsureCoverageMap();
switch (mode)
{
    case "instrument":
        foreach (var dll in args.Skip(1))
        {
            SharpFuzz.Fuzzer.Instrument(dll, type => type.StartsWith("VectorStore.Protocol", StringComparison.Ordinal)
                || type.StartsWith("VectorStore.Server", StringComparison.Ordinal)
                || type.StartsWith("VectorStore.Collections", StringComparison.Ordinal)
                || type.StartsWith("VectorStore.Filtering", StringComparison.Ordinal), SharpFuzz.Options.Value);
            Console.WriteLine($"instrumented {dll}");
        }
        return 0;
    case "repro":
        int failures = 0;
        foreach (var file in args.Skip(1))
        {
            try
            {
                Console.WriteLine($"{file}: {FuzzTarget.Run(File.ReadAllBytes(file))}");
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{file}: CRASH {e}");
            }
        }
        return failures == 0 ? 0 : 3;
    case "export-adversarial":
        Directory.CreateDirectory(args[1]);
        foreach (var (name, input) in SeedCorpus.Adversarial()) File.WriteAllBytes(Path.Combine(args[1], name + ".bin"), input);
        return 0;
    case "afl":
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            FuzzTarget.Run(ms.ToArray());
        });
        return 0;
    case "libfuzzer":
        SharpFuzz.Fuzzer.LibFuzzer.Run(span => FuzzTarget.Run(span));
        return 0;
    case "run":
    {
        int seconds = int.Parse(Arg("--seconds") ?? "60");
        long execs = long.Parse(Arg("--execs") ?? long.MaxValue.ToString());
        int seed = int.Parse(Arg("--seed") ?? "1");
        var fuzzer = new MutationalFuzzer(seed, Arg("--crashes") ?? "fuzz-crashes");
        foreach (var s in SeedCorpus.Create()) fuzzer.Add(s);
        if (Arg("--corpus") is string dir && Directory.Exists(dir))
            foreach (var f in Directory.GetFiles(dir)) fuzzer.Add(File.ReadAllBytes(f));
        fuzzer.Run(TimeSpan.FromSeconds(seconds), execs, Console.Error.WriteLine);
        Console.WriteLine($"execs={fuzzer.Executions} corpus={fuzzer.CorpusSize} edges={fuzzer.EdgesSeen} instrumented={MutationalFuzzer.Instrumented} crashes={fuzzer.Crashes}");
        return fuzzer.Crashes == 0 ? 0 : 3;
    }
    default:
        Console.Error.WriteLine($"error: unknown mode '{mode}' (run, instrument, repro, afl, libfuzzer)");
        return 1;
}
