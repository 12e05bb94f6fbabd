using System.Diagnostics;
using System.Reflection;
using FASTER.core;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A FASTER device whose close never returns (its handle pool waiting for a handle it lost) must not hang the
/// database's close: the write-ahead log device gives it <see cref="WalDevice.CloseWait"/> and moves on.
/// </summary>
[Collection(nameof(WalDeviceCloseTests))] // changes a static setting: runs alone
[CollectionDefinition(nameof(WalDeviceCloseTests), DisableParallelization = true)]
public sealed class WalDeviceCloseTests
{
    [Fact]
    public void ACloseThatNeverReturnsIsLeftBehindAfterTheWait()
    {
        var saved = WalDevice.CloseWait;
        using var release = new ManualResetEventSlim();
        try
        {
            WalDevice.CloseWait = TimeSpan.FromMilliseconds(200);
            var inner = DispatchProxy.Create<IDevice, BlockingDispose>();
            ((BlockingDispose)(object)inner).Gate = release;
            var sw = Stopwatch.StartNew();
            new WalDevice(inner, s => $"wal.log.{s}", null).Dispose();
            Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(30));
            Assert.False(release.IsSet, "the inner close is still waiting: it was left behind, not finished");
        }
        finally
        {
            release.Set();
            WalDevice.CloseWait = saved;
        }
    }

    [Fact]
    public void ACloseThatThrowsReportsItsOwnException()
    {
        var inner = DispatchProxy.Create<IDevice, BlockingDispose>();
        ((BlockingDispose)(object)inner).Failure = new IOException("close failed");
        var e = Assert.Throws<IOException>(() => new WalDevice(inner, s => $"wal.log.{s}", null).Dispose());
        Assert.Equal("close failed", e.Message);
    }

    /// <summary>
    /// FASTER removes segments behind a truncation from its own threads; the close waits for a removal in progress
    /// (both would dispose the same handle pool, which FASTER's pool does not survive) and later removals are skipped,
    /// their callbacks still called.
    /// </summary>
    [Fact]
    public async Task ACloseWaitsForASegmentRemovalAndLaterRemovalsAreSkipped()
    {
        using var removing = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var inner = DispatchProxy.Create<IDevice, BlockingDispose>();
        var proxy = (BlockingDispose)(object)inner;
        proxy.RemoveStarted = removing;
        proxy.RemoveGate = release;
        var device = new WalDevice(inner, s => $"wal.log.{s}", null);
        var remove = Task.Run(() => device.RemoveSegment(0));
        Assert.True(removing.Wait(TimeSpan.FromSeconds(30)));
        var close = Task.Run(device.Dispose);
        await Task.Delay(200);
        Assert.False(proxy.Disposed, "the close ran while a segment removal was disposing its handles");
        release.Set();
        await Task.WhenAll(remove, close).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(proxy.Disposed);
        Assert.False(proxy.DisposedDuringRemove);

        int removals = proxy.Removals, called = 0;
        device.RemoveSegmentAsync(1, _ => called++, null!);
        device.TruncateUntilSegment(5);
        Assert.Equal(removals, proxy.Removals);
        Assert.Equal(1, called);
    }

    /// <summary>An IDevice whose Dispose blocks on <see cref="Gate"/> (or throws <see cref="Failure"/>); other members return defaults.</summary>
    public class BlockingDispose : DispatchProxy
    {
        public ManualResetEventSlim? Gate { get; set; }
        public Exception? Failure { get; set; }
        public ManualResetEventSlim? RemoveStarted { get; set; }
        public ManualResetEventSlim? RemoveGate { get; set; }
        public volatile bool Disposed, DisposedDuringRemove;
        private volatile bool _inRemove;
        private int _removals;
        public int Removals => Volatile.Read(ref _removals);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IDisposable.Dispose))
            {
                if (Failure is not null) throw Failure;
                Gate?.Wait();
                DisposedDuringRemove |= _inRemove;
                Disposed = true;
                return null;
            }
            if (targetMethod?.Name is nameof(IDevice.RemoveSegment) or nameof(IDevice.TruncateUntilSegment) or nameof(IDevice.RemoveSegmentAsync))
            {
                Interlocked.Increment(ref _removals);
                _inRemove = true;
                RemoveStarted?.Set();
                RemoveGate?.Wait();
                _inRemove = false;
                return null;
            }
            var type = targetMethod?.ReturnType;
            return type is not null && type.IsValueType && type != typeof(void) ? Activator.CreateInstance(type) : null;
        }
    }
}
