using System.Diagnostics;
using Xunit;

namespace VectorStore.Cluster.Tests;

[Trait("Category", "Cluster")]
public class TaskDeadlineTests
{
    [Fact]
    public async Task ACompletedCallIsInTimeWhateverTheTimeout()
    {
        Assert.True(await Task.FromResult(1).CompletesWithin(TimeSpan.Zero));
        Assert.True(await Task.CompletedTask.CompletesWithin(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ACallStillRunningAtTheDeadlineIsLateAndNothingThrows()
    {
        var never = new TaskCompletionSource<int>();
        var sw = Stopwatch.StartNew();
        Assert.False(await never.Task.CompletesWithin(TimeSpan.FromMilliseconds(100)));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(90), $"returned after {sw.Elapsed.TotalMilliseconds} ms");
        Assert.False(await never.Task.CompletesWithin(TimeSpan.Zero));
        Assert.False(await never.Task.CompletesWithin(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task AFailedOrCancelledCallCountsAsCompletedWithoutThrowing()
    {
        static async Task<int> Fail()
        {
            await Task.Delay(20);
            throw new InvalidOperationException("shard down");
        }
        var failing = Fail();
        Assert.True(await failing.CompletesWithin(TimeSpan.FromSeconds(30)));
        Assert.True(failing.IsFaulted);
        Assert.True(await Task.FromCanceled(new CancellationToken(true)).CompletesWithin(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ACallThatAnswersBeforeTheDeadlineIsNotHeldUntilIt()
    {
        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sw = Stopwatch.StartNew();
        var waiting = answer.Task.CompletesWithin(TimeSpan.FromMinutes(5));
        _ = Task.Run(async () => { await Task.Delay(50); answer.SetResult(7); });
        Assert.True(await waiting);
        Assert.True(sw.Elapsed < TimeSpan.FromMinutes(1), $"took {sw.Elapsed}");
    }
}
