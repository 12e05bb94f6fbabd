using System.Collections.Concurrent;
using VectorStore.Threading;
using Xunit;

namespace VectorStore.Tests.Threading;

/// <summary>
/// The engine's parallel loops finish on the calling thread when no pool thread is free to run their helpers (a
/// starved pool: its threads wait for the lock the loop's caller holds).
/// </summary>
public class InliningTaskSchedulerTests
{
    /// <summary>
    /// A scheduler whose queue nobody serves (every pool thread busy or blocked): a parallel loop still runs every
    /// iteration once and returns, because the waiting thread runs the helper replicas itself. With a scheduler that
    /// does not inline previously queued tasks (the thread pool's own, for a caller that is not a pool thread) the
    /// loop would wait for the helpers forever.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(16)]
    public void ALoopFinishesOnItsCallerWhenNoPoolThreadServesTheQueue(int degree)
    {
        var starved = new ConcurrentQueue<Task>();
        var scheduler = new InliningTaskScheduler(starved.Enqueue);
        var runs = new int[10_000];
        var loop = new Thread(() => Parallel.For(0, runs.Length,
            new ParallelOptions { MaxDegreeOfParallelism = degree, TaskScheduler = scheduler },
            () => 0, (i, _, local) => { Interlocked.Increment(ref runs[i]); return local + 1; }, _ => { })) { IsBackground = true };
        loop.Start();
        Assert.True(loop.Join(TimeSpan.FromSeconds(60)), "the loop waited for helpers no thread ran");
        Assert.All(runs, r => Assert.Equal(1, r));
        // The helpers it queued ran inline; a pool thread that dequeues one later finds it done and runs nothing twice.
        Assert.Equal(degree > 1, !starved.IsEmpty);
        foreach (var task in starved) Assert.True(task.IsCompleted);
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    /// <summary>The same loop on the real scheduler gives the same result as a sequential loop, exceptions included.</summary>
    [Fact]
    public void TheSharedSchedulerRunsEveryIterationOnceAndReportsAFailure()
    {
        var runs = new int[50_000];
        Parallel.For(0, runs.Length, EngineParallel.Options(4), i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
        var e = Assert.Throws<AggregateException>(() => Parallel.For(0, 1000, EngineParallel.Options(), i =>
        {
            if (i == 777) throw new InvalidOperationException("iteration 777");
        }));
        Assert.Contains(e.InnerExceptions, x => x.Message == "iteration 777");
        Assert.Same(InliningTaskScheduler.Instance, EngineParallel.Options().TaskScheduler);
    }
}
