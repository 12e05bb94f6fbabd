using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>Tests that change the process's thread-pool limits: run alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(ThreadPoolLimits), DisableParallelization = true)]
public sealed class ThreadPoolLimits;

/// <summary>Async writers wait for durability without holding pool threads, so a tiny pool still completes them.</summary>
[Collection(nameof(ThreadPoolLimits))]
public sealed class AsyncThreadPoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vs-pool-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void ManyConcurrentAsyncUpsertsCompleteOnASmallPool()
    {
        const int writers = 256;
        using (var db = VectorDatabase.Open(_dir))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "none" });
            var data = SyntheticData.Clustered(writers, 8, seed: 5);
            ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
            ThreadPool.GetMaxThreads(out int maxWorkers, out int maxIo);
            // FASTER's own device and commit callbacks block pool threads briefly, so the pool cannot be smaller than
            // a handful; it stays far below the number of writers.
            int workers = Math.Max(Environment.ProcessorCount, 8);
            try
            {
                // No injection beyond a few workers: writers that each blocked a worker on their commit would starve
                // FASTER's own completions, and the 256 writers would never finish.
                Assert.True(ThreadPool.SetMinThreads(2, 2));
                Assert.True(ThreadPool.SetMaxThreads(workers, workers));
                var store = db.StoreOf("c")!;
                long groupsBefore = store.Wal.GroupCommits;
                // Issued back to back from this thread: each call returns once its batch is appended.
                var tasks = Enumerable.Range(0, writers).Select(i => c.UpsertAsync((ulong)i, data.Row(i).ToArray())).ToArray();
                // A blocking wait on purpose: a timer-based timeout would itself need a pool thread, so a starved pool
                // would hang the test run instead of failing it (a blocking writer did hang it, measured).
#pragma warning disable xUnit1031
                Assert.True(Task.WhenAll(tasks).Wait(TimeSpan.FromSeconds(60)), "async writers starved a small thread pool");
#pragma warning restore xUnit1031
                long groups = store.Wal.GroupCommits - groupsBefore;
                Assert.True(groups < writers, $"{groups} group commits for {writers} writers: they did not share commits");
            }
            finally
            {
                ThreadPool.SetMaxThreads(maxWorkers, maxIo);
                ThreadPool.SetMinThreads(minWorkers, minIo);
            }
            Assert.Equal(writers, c.Count);
            db.SimulateCrash();
        }
        using var reopened = VectorDatabase.Open(_dir);
        Assert.Equal(writers, reopened.GetCollection("c").Count);
    }

    [Fact]
    public void ConcurrentSynchronousUpsertsOnPoolThreadsWaitThroughTheGroupCommitAndAreAllDurable()
    {
        // Synchronous writers block on the group commit (CollectionStore.WaitDurable) instead of each spinning in
        // FASTER's WaitForCommit under the commit gate (which never starts a group commit: groups would stay 0).
        // Whether they share commits depends on how the pool schedules them, so that is not asserted.
        const int writers = 32;
        using (var db = VectorDatabase.Open(_dir))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "none" });
            var data = SyntheticData.Clustered(writers, 8, seed: 7);
            var store = db.StoreOf("c")!;
            long groupsBefore = store.Wal.GroupCommits;
            var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(() => c.Upsert((ulong)i, data.Row(i).ToArray()))).ToArray();
#pragma warning disable xUnit1031 // a blocking wait on purpose: a starved pool must fail the test, not hang it
            Assert.True(Task.WhenAll(tasks).Wait(TimeSpan.FromSeconds(120)), "synchronous writers on pool threads did not finish");
#pragma warning restore xUnit1031
            long groups = store.Wal.GroupCommits - groupsBefore;
            Assert.InRange(groups, 1, writers);
            Assert.Equal(writers, c.Count);
            db.SimulateCrash();
        }
        using var reopened = VectorDatabase.Open(_dir);
        var back = reopened.GetCollection("c");
        Assert.Equal(writers, back.Count);
    }
}
