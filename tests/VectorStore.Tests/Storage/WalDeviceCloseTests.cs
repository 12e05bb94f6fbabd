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
[Collection(nameof(WalDeviceCloseTests))] // changes a static setting
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

    /// <summary>An IDevice whose Dispose blocks on <see cref="Gate"/> (or throws <see cref="Failure"/>); other members return defaults.</summary>
    public class BlockingDispose : DispatchProxy
    {
        public ManualResetEventSlim? Gate { get; set; }
        public Exception? Failure { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IDisposable.Dispose))
            {
                if (Failure is not null) throw Failure;
                Gate?.Wait();
                return null;
            }
            var type = targetMethod?.ReturnType;
            return type is not null && type.IsValueType && type != typeof(void) ? Activator.CreateInstance(type) : null;
        }
    }
}
