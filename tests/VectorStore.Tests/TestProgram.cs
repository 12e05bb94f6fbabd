using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace VectorStore.Tests;

/// <summary>
/// The test assembly's own entry point: runs its xUnit tests in process, without vstest. <c>dotnet test</c> never calls
/// it (vstest loads the assembly as a library); it exists for <c>tools/arm64-tests.sh</c>, which publishes this project
/// self-contained for linux-arm64 and runs the executable under user-mode emulation, where no vstest host can start.
/// </summary>
/// <remarks>
/// Usage: <c>VectorStore.Tests [--filter A,B,…] [--exclude C,…] [--slowest N]</c> runs the tests whose fully
/// qualified name (<c>Namespace.Class.Method</c>) contains any of the comma-separated filter words and none of the
/// exclude words, case-insensitively, like
/// <c>dotnet test --filter "(FullyQualifiedName~A|FullyQualifiedName~B)&amp;FullyQualifiedName!~C"</c>. Prints every failure and skip, the N
/// slowest test methods (all rows of a theory together: under emulation this is what to look at when the run takes
/// too long), then one
/// summary line in <c>dotnet test</c>'s format (<c>Passed!  - Failed: 0, Passed: N, Skipped: S, Total: T</c>) that
/// <c>.ci/run</c> reads. Exit code 0 only when at least one test ran and none failed.
/// </remarks>
internal static class TestProgram
{
    private static int Main(string[] args)
    {
        // The kill -9 child of the lifecycle tests (not a test run).
        if (args.Length == 3 && args[0] == "lifecycle-child") return Lifecycle.LifecycleChild.Run(args[1..]);
        string[] words = [], excluded = [];
        int slowest = 0;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--filter" && i + 1 < args.Length) words = Words(args[++i]);
            else if (args[i] == "--exclude" && i + 1 < args.Length) excluded = Words(args[++i]);
            else if (args[i] == "--slowest" && i + 1 < args.Length && int.TryParse(args[i + 1], out slowest)) i++;
            else
            {
                Console.Error.WriteLine($"error: unknown argument '{args[i]}' (usage: VectorStore.Tests [--filter A,B,...] [--exclude C,...] [--slowest N])");
                return 1;
            }
        }
        var assembly = typeof(TestProgram).Assembly;
        Console.WriteLine($"{assembly.GetName().Name} on {RuntimeInformation.RuntimeIdentifier}, .NET {Environment.Version}: " +
            $"AdvSimd={AdvSimd.IsSupported} Dp={Dp.IsSupported} V128={Vector128.IsHardwareAccelerated} V256={Vector256.IsHardwareAccelerated} " +
            $"V512={Vector512.IsHardwareAccelerated}; filter: {(words.Length == 0 ? "(all)" : string.Join(" | ", words))}" +
            (excluded.Length == 0 ? "" : $", except {string.Join(" | ", excluded)}"));

        var clock = Stopwatch.StartNew();
        var diagnostics = new NullSink();
        using var framework = new XunitTestFramework(diagnostics);
        var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly));
        var found = new DiscoverySink();
        discoverer.Find(includeSourceInformation: false, found, new Options());
        found.Done.Wait();
        var selected = found.TestCases.Where(tc => Matches(tc, words, excluded)).ToList();
        Console.WriteLine($"discovered {found.TestCases.Count} test cases, {selected.Count} selected, in {clock.Elapsed.TotalSeconds:F1} s");

        var results = new ExecutionSink();
        using (var executor = framework.GetExecutor(assembly.GetName()))
        {
            executor.RunTests(selected, results, new Options());
            results.Done.Wait();
        }
        foreach (var (name, seconds) in results.MethodSeconds.OrderByDescending(kv => kv.Value).Take(slowest).Select(kv => (kv.Key, kv.Value)))
            Console.WriteLine($"  {seconds,7:F1} s  {name}");
        int total = results.Passed + results.Failed + results.Skipped;
        bool ok = results.Failed == 0 && total > 0;
        if (total == 0) Console.WriteLine("error: no test matched the filter");
        Console.WriteLine($"{(ok ? "Passed!" : "Failed!")}  - Failed: {results.Failed,5}, Passed: {results.Passed,5}, Skipped: {results.Skipped,5}, " +
            $"Total: {total,5}, Duration: {clock.Elapsed.TotalSeconds:F0} s - {assembly.GetName().Name}.dll ({RuntimeInformation.RuntimeIdentifier})");
        return ok ? 0 : 1;
    }

    private static string[] Words(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool Matches(ITestCase testCase, string[] words, string[] excluded)
    {
        string name = testCase.TestMethod.TestClass.Class.Name + "." + testCase.TestMethod.Method.Name;
        return (words.Length == 0 || words.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase)))
            && !excluded.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>xUnit reads its options by name and falls back to its defaults for names never set.</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = new();

        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var v) ? (TValue)v! : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    private sealed class NullSink : Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message) => true;
    }

    private sealed class DiscoverySink : Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        public List<ITestCase> TestCases { get; } = [];

        public ManualResetEventSlim Done { get; } = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage found) TestCases.Add(found.TestCase);
            else if (message is IDiscoveryCompleteMessage) Done.Set();
            else if (message is IErrorMessage error) Console.WriteLine($"discovery error: {string.Join(Environment.NewLine, error.Messages)}");
            return true;
        }
    }

    /// <summary>Counts results; messages arrive on several threads (test collections run in parallel).</summary>
    private sealed class ExecutionSink : Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        private int _passed, _failed, _skipped;

        public int Passed => _passed;

        public int Failed => _failed;

        public int Skipped => _skipped;

        public ManualResetEventSlim Done { get; } = new();

        /// <summary>Seconds per test method, as xUnit reports them (test bodies, not discovery or start-up).</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, double> MethodSeconds { get; } = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestResultMessage result)
            {
                var method = result.TestCase.TestMethod;
                MethodSeconds.AddOrUpdate(method.TestClass.Class.Name + "." + method.Method.Name, (double)result.ExecutionTime, (_, s) => s + (double)result.ExecutionTime);
            }
            switch (message)
            {
                case ITestPassed:
                    Interlocked.Increment(ref _passed);
                    break;
                case ITestFailed failed:
                    Interlocked.Increment(ref _failed);
                    Report($"failed: {failed.Test.DisplayName}", failed);
                    break;
                case ITestSkipped skipped:
                    Interlocked.Increment(ref _skipped);
                    Console.WriteLine($"skipped: {skipped.Test.DisplayName}: {skipped.Reason}");
                    break;
                case IFailureInformation other:
                    // A failure outside any test (a cleanup, a fixture, a runner error) fails the run too.
                    Interlocked.Increment(ref _failed);
                    Report($"error outside a test ({other.GetType().Name})", other);
                    break;
                case ITestAssemblyFinished:
                    Done.Set();
                    break;
            }
            return true;
        }

        private static void Report(string what, IFailureInformation failure)
        {
            var text = new System.Text.StringBuilder(what).AppendLine();
            for (int i = 0; i < failure.Messages.Length; i++)
            {
                text.Append("  ").Append(failure.ExceptionTypes[i]).Append(": ").AppendLine(failure.Messages[i]);
                if (failure.StackTraces[i] is { } stack) text.AppendLine(stack);
            }
            lock (Console.Out) Console.Write(text);
        }
    }
}
