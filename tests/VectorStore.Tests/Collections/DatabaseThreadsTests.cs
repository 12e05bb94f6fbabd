using System.Collections.Concurrent;
using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary><see cref="DatabaseOptions.Threads"/> is the engine's one thread setting: collections fan out to it.</summary>
public sealed class DatabaseThreadsTests
{
    // With awaitSecondThread, each thread's first predicate call waits (up to 5 s) until a second thread has searched
    // too: without it a loaded machine can finish the whole batch on the calling thread before the pool starts the
    // second worker.
    private static HashSet<int> ThreadsUsedBySearchBatch(DatabaseOptions options, int threadsArgument, bool awaitSecondThread = false)
    {
        using var db = VectorDatabase.CreateInMemory(options);
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "none" });
        var data = SyntheticData.Clustered(2_000, 8, seed: 1);
        c.UpsertBatch(Enumerable.Range(0, 2_000).Select(i => (ulong)i).ToArray(), data);
        var seen = new ConcurrentDictionary<int, bool>();
        // The predicate runs on whichever thread searches, once per entry.
        var filter = new SearchFilter
        {
            Predicate = (_, _) =>
            {
                if (seen.TryAdd(Environment.CurrentManagedThreadId, true) && awaitSecondThread)
                    SpinWait.SpinUntil(() => seen.Count > 1, TimeSpan.FromSeconds(5));
                return true;
            },
        };
        c.SearchBatch(data.Slice(0, 200), new SearchOptions { K = 3, Filter = filter }, threadsArgument);
        return [.. seen.Keys];
    }

    [Fact]
    public void SearchBatchWithoutAThreadCountUsesTheDatabasesSetting()
    {
        Assert.Single(ThreadsUsedBySearchBatch(new DatabaseOptions { Threads = 1 }, threadsArgument: 0));
    }

    [SkippableFact]
    public void APositiveThreadCountOverridesTheDatabasesSetting()
    {
        Skip.If(Environment.ProcessorCount < 2, "needs two cores to see a second thread");
        // Scheduling may still keep everything on one thread now and then; a few tries make that vanishingly rare.
        Assert.Contains(Enumerable.Range(0, 5), _ => ThreadsUsedBySearchBatch(new DatabaseOptions { Threads = 1 }, threadsArgument: 2, awaitSecondThread: true).Count > 1);
    }

    [Fact]
    public void NegativeThreadsAreRejected()
    {
        var e = Assert.Throws<InvalidArgumentException>(() => VectorDatabase.CreateInMemory(new DatabaseOptions { Threads = -1 }));
        Assert.Contains("threads", e.Message);
    }
}
